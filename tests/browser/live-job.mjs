// Log in; a job submitted elsewhere appears in the Jobs table; its page streams the output
// live while it runs, with ANSI colours rendered; the Run form starts a job from the page.
import { scenario, assert } from './lib/harness.mjs';
import { api, logIn } from './lib/ui.mjs';

await scenario(async (t) => {
    const page = await t.newPage('admin');

    await t.step('log in with the admin token', async () => {
        await page.goto('/ui/');
        await t.expectText(page.locator('#login-form'), 'Log in');
        await t.screenshot(page, 'login');
        await logIn(t, page, 'admin', 'token:admin');
        await t.expectText(page.locator('h1'), 'Jobs');
    });

    let job;
    await t.step('a job submitted through the API appears in the table by itself', async () => {
        const answer = await api(t, 'admin', 'POST', '/api/v1/jobs', {
            target: 'web-1',
            argv: ['sh', '-c', 'echo first line; sleep 6; printf "\\033[1;31mred alert\\033[0m plain\\n"; echo last line'],
        });
        job = answer.job;
        const row = page.locator(`tr[data-job="${job}"]`);
        await t.expectText(row, `#${job}`);
        await t.expectText(row, 'web-1');
        await t.screenshot(page, 'jobs');
    });

    await t.step('its page streams the output while it runs', async () => {
        await page.locator(`tr[data-job="${job}"] a`).first().click();
        await t.expectText(page.locator('h1'), `Job #${job}`);
        const output = page.locator('pre.output[data-agent="web-1"]');
        await t.expectText(output, 'first line');
        // Seen before the run ended: it arrived live, not from a reload after the end.
        assert.equal(await page.locator('.page-head').getAttribute('data-state'), 'running');
        assert.ok(!(await output.innerText()).includes('last line'), 'the whole output came at once');
        await t.expectText(page.locator('#live-state'), 'Live');
        await t.screenshot(page, 'job-running');
    });

    await t.step('the run finishes on the page, colours rendered as colours', async () => {
        const output = page.locator('pre.output[data-agent="web-1"]');
        await t.expectText(output, 'last line', { timeout: 20_000 });
        await t.expectText(page.locator('.page-head'), 'succeeded');
        const red = output.locator('span.ansi-fg-red.ansi-bold');
        await t.expectText(red, 'red alert');
        assert.ok(!(await output.innerText()).includes('\x1b'), 'an escape sequence was shown raw');
        await t.expectText(page.locator('.run-card[data-agent="web-1"] .exit'), 'exit 0');
        const download = await page.locator('.run-card[data-agent="web-1"] a.download').getAttribute('href');
        assert.equal(download, `/api/v1/jobs/${job}/output/download?host=web-1`);
        // The link works with the session cookie alone.
        const body = await page.evaluate(async (href) => (await fetch(href)).text(), download);
        assert.ok(body.startsWith('first line\n') && body.includes('\x1b[1;31mred alert'), body);
        await t.screenshot(page, 'job');
    });

    await t.step('the Run form sends the command as argv words', async () => {
        await page.goto('/ui/#/jobs');
        await page.locator('details.run summary').click();
        await page.locator('#run-target').fill('web-1');
        await page.locator('#run-command').fill(`echo 'two words' "and; more"`);
        await page.locator('#run-form button[type=submit]').click();
        await t.expectText(page.locator('pre.output[data-agent="web-1"]'), 'two words and; more');
        const words = await page.locator('.argv li').allInnerTexts();
        assert.deepEqual(words, ['echo', 'two words', 'and; more']);
    });

    await t.step('on a phone the pages fit the screen', async () => {
        const phone = await t.newPage('phone', { viewport: { width: 390, height: 844 }, isMobile: true,
                                                 hasTouch: true, deviceScaleFactor: 2 });
        await logIn(t, phone, 'admin', 'token:admin');
        const fits = () => phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
        await t.expectText(phone.locator(`tr[data-job="${job}"]`), 'succeeded');
        assert.ok(await fits(), 'the jobs page is wider than the phone');
        await t.screenshot(phone, 'phone-jobs');
        await phone.goto(`/ui/#/jobs/${job}`);
        await t.expectText(phone.locator('pre.output[data-agent="web-1"]'), 'last line');
        assert.ok(await fits(), 'the job page is wider than the phone');
        await t.screenshot(phone, 'phone-job');
    });
});
