// Steps the UI scenarios share: logging in through the login form, and calling the API
// directly (as a script or another user would) to set the scene.
import { assert } from './harness.mjs';

export function secretOf(t, user) {
    return user === 'admin' ? t.adminToken : t.token(user);
}

// Logs `user` in through the form and waits for the top bar to name `identity`.
export async function logIn(t, page, user, identity) {
    await page.goto('/ui/');
    await page.locator('#token').fill(secretOf(t, user));
    await page.locator('#login-form button[type=submit]').click();
    await t.expectText(page.locator('#identity'), identity);
}

// The API with a bearer token, from node: the answer's JSON; throws on a non-2xx.
export async function api(t, user, method, path, body) {
    const response = await fetch(new URL(path, t.url), {
        method,
        headers: { Authorization: `Bearer ${secretOf(t, user)}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : null;
}
