// A job that needs approval: its requester cannot approve it; a second user (an approver)
// approves it on the Approvals page and sees it run.
import { scenario, assert } from './lib/harness.mjs';
import { logIn } from './lib/ui.mjs';

const job = Number(process.env.HOSTLINE_PENDING_JOB);

await scenario(async (t) => {
    assert.ok(job > 0, 'HOSTLINE_PENDING_JOB is not set');

    await t.step('the requester sees the job waiting, and may not approve it', async () => {
        const alice = await t.newPage('alice');
        await logIn(t, alice, 'alice', 'local:alice');
        await alice.goto(`/ui/#/jobs/${job}`);
        await t.expectText(alice.locator('.page-head'), 'pending approval');
        await t.expectText(alice.locator('#approval'), '0 of 1 from group leads');
        // Alice is no approver: the list itself is refused, with the reason.
        await alice.goto('/ui/#/approvals');
        await t.expectText(alice.locator('.notice-error'), 'approvals.decide');
        t.takeProblems(alice);  // the refused request is logged by chromium; expected
        await alice.context().close();
    });

    const bob = await t.newPage('bob');
    await t.step('the approver sees it pending', async () => {
        await logIn(t, bob, 'bob', 'local:bob');
        await bob.goto('/ui/#/approvals');
        const row = bob.locator(`#pending-approvals tr[data-approval="${job}"]`);
        await t.expectText(row, 'bounce');
        await t.expectText(row, 'local:alice');
        await t.expectText(row, 'web-1');
        await t.screenshot(bob, 'approvals');
    });

    await t.step('approves it, and it runs', async () => {
        await bob.locator(`#pending-approvals tr[data-approval="${job}"] button.approve`).click();
        await t.expectText(bob.locator('.status-line'), `Job #${job} approved`);
        await t.expectText(bob.locator(`#approval-history tr[data-approval="${job}"]`), 'granted');
        await bob.locator(`#approval-history tr[data-approval="${job}"] a`).first().click();
        await t.expectText(bob.locator('pre.output[data-agent="web-1"]'), 'bounced nginx on web-1',
                           { timeout: 20_000 });
        await t.expectText(bob.locator('.page-head'), 'succeeded');
        await t.expectText(bob.locator('#approval'), 'local:bob approved');
        await t.screenshot(bob, 'approved-job');
    });
});
