// The API as the page uses it: a session cookie set by /auth/login (HttpOnly, so scripts never
// see it) and the session's CSRF token sent on every change. docs/api.md is the contract.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let session = null;  // {identity, csrf, expires_ms} while logged in
let onSessionEnded = () => {};

export function currentSession() { return session; }
export function whenSessionEnds(callback) { onSessionEnded = callback; }

async function errorFrom(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = 'error';
  try {
    const doc = await response.json();
    if (doc && doc.error) {
      message = doc.error.message || message;
      code = doc.error.code || code;
    }
  } catch (_) { /* not JSON: keep the status line */ }
  return new ApiError(response.status, code, message);
}

export async function loadSession() {
  const response = await fetch('/auth/session', {credentials: 'same-origin'});
  const answer = response.ok ? await response.json() : null;
  session = answer && answer.identity ? answer : null;
  return session;
}

export async function login(token) {
  const response = await fetch('/auth/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({token}),
  });
  if (!response.ok) throw await errorFrom(response);
  session = await response.json();
  return session;
}

export async function logout() {
  const csrf = session ? session.csrf : '';
  session = null;
  await fetch('/auth/logout', {method: 'POST', credentials: 'same-origin',
    headers: {'X-CSRF-Token': csrf}});
}

// One API call; the answer's JSON, or an ApiError carrying the server's message.
export async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    session = null;
    onSessionEnded();
    throw await errorFrom(response);
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

// A query string from the non-empty values of params.
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
