// Agents: a pending key is shown with its fingerprint and accepted from the page, the agent
// comes online; the audit page shows the chain verified; logging out ends the session.
import { scenario, assert } from './lib/harness.mjs';
import { logIn } from './lib/ui.mjs';

const fingerprint = process.env.HOSTLINE_PENDING_FINGERPRINT;

await scenario(async (t) => {
    const page = await t.newPage('admin');
    await t.step('log in', () => logIn(t, page, 'admin', 'token:admin'));

    await t.step('the pending key shows with its fingerprint', async () => {
        await page.goto('/ui/#/agents');
        await t.expectText(page.locator('#agents-list tr[data-agent="web-1"]'), 'online');
        const key = page.locator('#pending-keys tr[data-key="newcomer"]');
        await t.expectText(key, fingerprint);
        await t.screenshot(page, 'agents-pending');
    });

    await t.step('accepting it brings the agent online', async () => {
        await page.locator('#pending-keys tr[data-key="newcomer"] button.approve').click();
        await t.expectText(page.locator('.status-line'), `Accepted newcomer (${fingerprint})`);
        await t.expectText(page.locator('#agents-list tr[data-agent="newcomer"]'), 'online', { timeout: 30_000 });
        assert.equal(await page.locator('#pending-keys tr[data-key="newcomer"]').count(), 0);
        await t.screenshot(page, 'agents');
    });

    await t.step('the audit page shows the acceptance and the chain verified', async () => {
        await page.goto('/ui/#/audit');
        await t.expectText(page.locator('#chain'), 'The chain is intact');
        await t.expectText(page.locator('#audit-list'), 'agent.accepted');
        await page.locator('#audit-kind').fill('agent.accepted');
        await page.locator('form.filters button[type=submit]').click();
        await t.expectText(page.locator('#audit-list tbody'), 'agent:newcomer');
        // The unfiltered list shows agent:newcomer too: wait for the filtered one to replace it.
        await t.eventually(async () => {
            const kinds = await page.locator('#audit-list tbody tr td:nth-child(3)').allInnerTexts();
            assert.ok(kinds.length > 0 && kinds.every((k) => k === 'agent.accepted'), kinds.join(','));
        }, { what: 'only agent.accepted rows listed' });
        await t.screenshot(page, 'audit');
    });

    await t.step('log out: the login form is back and the old session is refused', async () => {
        await page.locator('#logout').click();
        await t.expectText(page.locator('#login-form'), 'Log in');
        const status = await page.evaluate(async () => (await fetch('/api/v1/jobs')).status);
        assert.equal(status, 401);
        t.takeProblems(page);  // chromium logs the refused request
        await page.reload();
        await t.expectText(page.locator('#login-form'), 'Log in');
        await t.screenshot(page, 'logged-out');
    });
});
