// The harness end to end without the UI: chromium reaches the controller, screenshots are
// written, and the guards catch what they are there to catch (an alert(), a script error, a
// console error, a request to another origin) without this scenario failing.
import fs from 'node:fs';

import { scenario, assert } from './lib/harness.mjs';

await scenario(async (t) => {
    const page = await t.newPage('admin');

    await t.step('open /healthz', async () => {
        const response = await page.goto('/healthz');
        assert.equal(response.status(), 200);
        assert.equal((await page.locator('body').innerText()).trim(), 'ok');
    });

    await t.step('take a screenshot', async () => {
        const file = await t.screenshot(page, 'healthz');
        const png = fs.readFileSync(file);
        assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
                  `${file} is not a PNG`);
    });

    // A page of its own, so that what it provokes cannot be confused with the page above.
    await t.step('the guards report an alert, a script error, a console error, a foreign request', async () => {
        const probe = await t.newPage('probe');
        await probe.goto('/healthz');
        await probe.evaluate(() => {
            alert('injected');
            console.error('logged an error');
            setTimeout(() => { throw new Error('thrown by a script'); }, 0);
        });
        // A request to another origin is aborted before it leaves the browser.
        await probe.evaluate(() => fetch('http://127.0.0.2:9/steal').catch(() => {}));
        const seen = [];
        const has = (kind, text) => seen.some((p) => p.kind === kind && text.test(p.text));
        await t.eventually(() => {
            seen.push(...t.takeProblems(probe));
            assert.ok(has('dialog', /^alert: injected$/), 'no alert reported');
            assert.ok(has('console', /^logged an error$/), 'no console error reported');
            assert.ok(has('pageerror', /thrown by a script/), 'no script error reported');
            assert.ok(has('foreign-request', /^http:\/\/127\.0\.0\.2:9\/steal$/), 'no foreign request reported');
        }, { what: 'the guards reporting each problem', timeout: 5_000 });
        await probe.context().close();
    });
});
