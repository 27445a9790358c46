// Building the page. Everything shown is set as text (textContent, text nodes), never parsed
// as HTML, so output, labels and arguments from hosts can hold '<script>' and show it as such.

// h('a', {href: '#/jobs/1', class: 'x', onclick: fn}, 'text', child, [more]) -> an element.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'href') {
      element.setAttribute('href', safeHref(value));
    } else if (name === 'class') {
      element.className = value;
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

// Links go to this UI or this server only: a value from a host such as 'javascript:alert(1)'
// or '//evil.example' becomes a harmless fragment.
export function safeHref(value) {
  const text = String(value);
  if (text.startsWith('#') || (text.startsWith('/') && !text.startsWith('//'))) return text;
  return '#/';
}

const FINAL_JOB_STATES = new Set(['succeeded', 'failed', 'partial', 'timed_out', 'cancelled',
  'denied', 'expired']);
export function isFinalJobState(state) { return FINAL_JOB_STATES.has(state); }

export const JOB_STATES = ['pending_approval', 'queued', 'running', 'succeeded', 'failed',
  'partial', 'timed_out', 'cancelled', 'denied', 'expired'];

// A state as a coloured badge; the colour comes from the class (app.css), the word is the text.
export function badge(state) {
  return h('span', {class: `badge state-${String(state).replace(/[^a-z_]/g, '')}`},
    String(state).replace(/_/g, ' '));
}

export function formatTime(ms) {
  if (!ms) return '—';
  const date = new Date(ms);
  return date.toLocaleString(undefined, {year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit'});
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60000);
  const seconds = Math.round((ms % 60000) / 1000);
  if (minutes < 60) return `${minutes} min ${seconds} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatAgo(ms) {
  if (!ms) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return formatTime(ms);
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// argv as a person reads it: each word shown as text, quoted when it holds spaces or quotes.
export function commandText(argv) {
  return (argv || []).map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word
    : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}

// A table whose cells carry their column's name, so the phone layout (app.css) can show each
// row as a card with labels.
export function table(columns, rows, emptyText) {
  const head = h('tr', {}, columns.map((c) => h('th', {scope: 'col'}, c)));
  const body = h('tbody');
  for (const row of rows) {
    body.append(h('tr', row.attributes || {},
      row.cells.map((cell, i) => h('td', {'data-label': columns[i]}, cell))));
  }
  const result = h('div', {class: 'table-wrap'}, h('table', {class: 'list'}, h('thead', {}, head), body));
  if (rows.length === 0) result.append(h('p', {class: 'muted empty'}, emptyText));
  return result;
}

// The links under a paged list: back to the first page when not on it, on to the next page
// when there is one. Each is {href, text, id?} or null.
export function pagerLinks(first, next) {
  const link = (l) => l && h('a', {class: 'button secondary', href: l.href, id: l.id}, l.text);
  return [link(first), link(next)];
}

// A line at the top of a page for what just happened or went wrong.
export function notice(kind, text) {
  return h('p', {class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status'}, text);
}
