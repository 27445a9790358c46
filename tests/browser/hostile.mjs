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

    await t.step('the page refuses inline script by its Content-Security-Policy', async () => {
        const response = await page.goto('/ui/');
        const csp = response.headers()['content-security-policy'];
        assert.match(csp, /script-src 'self'/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    });
});
