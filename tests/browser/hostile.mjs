// Text from hosts and users that looks like HTML or script is shown as text: job output,
// agent labels and command arguments holding <script>, <img onerror> and javascript: links.
// The harness fails the scenario on any alert() (the payloads' tell), script error, or request
// to another origin.
import { scenario, assert } from './lib/harness.mjs';
import { api, logIn } from './lib/ui.mjs';

const SCRIPT = '<script>alert("argv")</script>';
const IMG = '<img src=x onerror=alert("output")>';
const LINK = '<a href="javascript:alert(\'link\')">click</a>';

await scenario(async (t) => {
    const page = await t.newPage('admin');
    await t.step('log in', () => logIn(t, page, 'admin', 'token:admin'));

    let job;
    await t.step('a job whose arguments and output are HTML', async () => {
        const answer = await api(t, 'admin', 'POST', '/api/v1/jobs', {
            target: 'evil-1',
            argv: ['printf', '%s\\n%s\\n%s\\n', SCRIPT, IMG, LINK],
        });
        job = answer.job;
        await page.goto(`/ui/#/jobs/${job}`);
        const output = page.locator('pre.output[data-agent="evil-1"]');
        await t.expectText(output, IMG);
        assert.equal(await output.innerText(), `${SCRIPT}\n${IMG}\n${LINK}\n`);
        assert.equal(await output.locator('img, script, a').count(), 0);
        await t.expectText(page.locator('.argv'), SCRIPT);
        assert.equal(await page.locator('.argv script').count(), 0);
        await t.screenshot(page, 'job');
    });

    await t.step('the jobs table shows the arguments as text', async () => {
        await page.goto('/ui/#/jobs');
        const row = page.locator(`tr[data-job="${job}"]`);
        await t.expectText(row, 'alert("argv")');
        assert.equal(await page.locator('main script, main img').count(), 0);
        // Every link on the page goes to this UI or this server.
        const hrefs = await page.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
        assert.ok(hrefs.every((h) => h.startsWith('#') || h.startsWith('/')), hrefs.join(' '));
    });

    await t.step('agent labels are text', async () => {
        await page.goto('/ui/#/agents');
        const row = page.locator('#agents-list tr[data-agent="evil-1"]');
        // Labels are plain words (no spaces, = or parentheses), which still leaves a script tag.
        await t.expectText(row, 'note=<script>alert`label`</script>');
        assert.equal(await row.locator('script').count(), 0);
        await t.screenshot(page, 'agents');
    });

    await t.step('a change without the CSRF token is refused, and nothing is made', async () => {
        const before = (await api(t, 'admin', 'GET', '/api/v1/jobs')).jobs.length;
        const status = await page.evaluate(async () => (await fetch('/api/v1/jobs', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ target: 'evil-1', argv: ['true'] }),
        })).status);
        assert.equal(status, 403);
        t.takeProblems(page);  // chromium logs the refused request
        assert.equal((await api(t, 'admin', 'GET', '/api/v1/jobs')).jobs.length, before);
    });

    await t.step('a change from another origin is refused, and nothing is made', async () => {
        // A page of another site (this server by another name: localhost is not 127.0.0.1 to
        // a browser) in the logged-in browser, posting to the API as a form and as a fetch.
        const victim = await t.newPage('victim', { foreignRequests: 'allow' });
        await logIn(t, victim, 'admin', 'token:admin');
        const before = (await api(t, 'admin', 'GET', '/api/v1/jobs')).jobs.length;
        const evil = await victim.context().newPage();
        const other = new URL(t.url);
        other.hostname = 'localhost';
        await evil.goto(new URL('/healthz', other).href);
        await evil.evaluate(async (target) => {
            await fetch(target, { method: 'POST', mode: 'no-cors', credentials: 'include',
                                  body: '{"target":"evil-1","argv":["touch","/tmp/pwned"]}' })
                .catch(() => {});
        }, new URL('/api/v1/jobs', t.url).href);
        await Promise.all([
            evil.waitForNavigation(),
            evil.evaluate((target) => {
                const form = document.createElement('form');
                form.method = 'POST';
                form.action = target;
                form.enctype = 'text/plain';
                const field = document.createElement('input');
                field.name = '{"target":"evil-1","argv":["true"],"x":"';
                field.value = '"}';
                form.append(field);
                document.body.append(form);
                form.submit();
            }, new URL('/api/v1/jobs', t.url).href),
        ]);
        // The browser did not send the SameSite=Strict cookie across sites: no session.
        assert.match(await evil.locator('body').innerText(), /"code":"unauthorized"/);
        assert.equal((await api(t, 'admin', 'GET', '/api/v1/jobs')).jobs.length, before);
        // Closed before its problems are taken: the refused requests (and the other site's
        // favicon) are logged by chromium whenever they end, which may be after the answer.
        await victim.context().close();
        t.takeProblems(evil);
        t.takeProblems(victim);
    });

    await t.step('the page refuses inline script by its Content-Security-Policy', async () => {
        const response = await page.goto('/ui/');
        const csp = response.headers()['content-security-policy'];
        assert.match(csp, /script-src 'self'/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    });
});
