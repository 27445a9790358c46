// What every browser scenario imports: headless Debian chromium driven by playwright-core
// against a running controller, with guards that fail the scenario on anything a user should
// never see happen (a script error, an error in the console, an alert(), a request that
// leaves the controller's origin). A scenario is one small file:
//
//   import { scenario, assert } from './lib/harness.mjs';
//   await scenario(async (t) => {
//     const page = await t.newPage('admin');
//     await t.step('open the jobs page', () => page.goto('/ui/'));
//     await t.expectText(page.locator('h1'), 'Jobs');
//     await t.screenshot(page, 'jobs');
//   });
//
// Inputs come from the environment (docs/browser-tests.md): HOSTLINE_URL, HOSTLINE_ADMIN_TOKEN,
// HOSTLINE_TOKENS ({"name": "secret"} for more users), HOSTLINE_ARTIFACTS (screenshots),
// HOSTLINE_CHROMIUM (default /usr/bin/chromium). Exit code: 0 when the scenario passed, 1
// when it failed, 2 when it could not start (an input or the browser missing).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export { assert };

const kChromiumArgs = [
    '--headless=new',
    '--no-sandbox',  // tests run as root in containers, where the sandbox cannot start
    '--disable-gpu',
    '--disable-dev-shm-usage',  // containers often have a 64 MiB /dev/shm
    '--disable-background-networking',
    '--no-first-run',
];
const kExitFailed = 1;
const kExitCannotStart = 2;

class SetupError extends Error {}

// Playwright colours its call logs; the output ends up in ctest's log, not a terminal.
function log(line) {
    process.stdout.write(`[browser] ${String(line).replace(/\x1b\[[0-9;]*m/g, '')}\n`);
}

// The inputs, checked before a browser starts. `. .hostline-dev/env` sets HOSTLINE_CONTROLLER
// and HOSTLINE_TOKEN_FILE, so a scenario also runs by hand against `hostline dev` with those.
function readInputs(scenarioName) {
    const url = process.env.HOSTLINE_URL || process.env.HOSTLINE_CONTROLLER;
    if (!url) throw new SetupError('HOSTLINE_URL is not set (the controller, e.g. http://127.0.0.1:39041)');
    let adminToken = process.env.HOSTLINE_ADMIN_TOKEN;
    if (!adminToken && process.env.HOSTLINE_TOKEN_FILE) {
        adminToken = fs.readFileSync(process.env.HOSTLINE_TOKEN_FILE, 'utf8').trim();
    }
    if (!adminToken) throw new SetupError('HOSTLINE_ADMIN_TOKEN is not set (nor HOSTLINE_TOKEN_FILE)');
    let tokens = {};
    if (process.env.HOSTLINE_TOKENS) {
        try {
            tokens = JSON.parse(process.env.HOSTLINE_TOKENS);
        } catch (e) {
            throw new SetupError(`HOSTLINE_TOKENS is not JSON: ${e.message}`);
        }
        if (typeof tokens !== 'object' || tokens === null || Array.isArray(tokens)) {
            throw new SetupError('HOSTLINE_TOKENS must be a JSON object {"name": "secret"}');
        }
    }
    const artifacts = process.env.HOSTLINE_ARTIFACTS ||
                      path.join(os.tmpdir(), 'hostline-browser-artifacts');
    fs.mkdirSync(artifacts, { recursive: true });
    const chromiumPath = process.env.HOSTLINE_CHROMIUM || '/usr/bin/chromium';
    if (!fs.existsSync(chromiumPath)) {
        throw new SetupError(`no chromium at ${chromiumPath}: run scripts/install-deps.sh`);
    }
    return {
        url: new URL(url).origin,
        adminToken,
        tokens: { ...tokens, admin: adminToken },
        artifacts,
        chromiumPath,
        scenarioName,
    };
}

// What went wrong on a page that a user could see or an attacker could cause.
// kind: 'pageerror' | 'console' | 'dialog' | 'foreign-request'.
class Problems {
    constructor() {
        this.byPage = new Map();  // Page -> [{kind, text, user}]
    }
    add(page, user, kind, text) {
        if (!this.byPage.has(page)) this.byPage.set(page, []);
        this.byPage.get(page).push({ kind, text, user });
        log(`  ! ${user}: ${kind}: ${text}`);
    }
    take(page) {
        const found = this.byPage.get(page) || [];
        this.byPage.set(page, []);
        return found;
    }
    takeAll() {
        const found = [];
        for (const page of this.byPage.keys()) found.push(...this.take(page));
        return found;
    }
}

function describe(problems) {
    return problems.map((p) => `  ${p.user}: ${p.kind}: ${p.text}`).join('\n');
}

// One scenario's run: the browser, its pages, and the helpers a scenario calls (`t`).
class Run {
    constructor(inputs, browser) {
        this.inputs = inputs;
        this.browser = browser;
        this.problems = new Problems();
        this.pages = [];  // [{page, user}], for screenshots when something fails
        this.currentStep = null;
        this.steps = 0;
    }

    get name() { return this.inputs.scenarioName; }
    get url() { return this.inputs.url; }
    get adminToken() { return this.inputs.adminToken; }
    get artifacts() { return this.inputs.artifacts; }

    // The secret of a user named in HOSTLINE_TOKENS ('admin' is HOSTLINE_ADMIN_TOKEN).
    token(user) {
        const secret = this.inputs.tokens[user];
        if (!secret) {
            throw new Error(`no token for user '${user}': HOSTLINE_TOKENS has ` +
                            `${JSON.stringify(Object.keys(this.inputs.tokens))}`);
        }
        return secret;
    }

    // A page in a fresh browser context: its own cookie jar, so two users are two sessions.
    // `user` only names the page in logs and screenshots (logging in is the scenario's job).
    // options: anything browser.newContext takes (viewport, isMobile, ...), plus
    // foreignRequests: 'block' (the default: aborted and a problem) or 'allow'.
    async newPage(user = 'admin', options = {}) {
        const { foreignRequests = 'block', ...contextOptions } = options;
        const context = await this.browser.newContext({ baseURL: this.url, ...contextOptions });
        context.setDefaultTimeout(15_000);
        const guarded = new WeakSet();
        const guard = (page) => {
            if (guarded.has(page)) return;
            guarded.add(page);
            this.pages.push({ page, user });
            page.on('pageerror', (error) => this.problems.add(page, user, 'pageerror', error.message));
            page.on('console', (message) => {
                if (message.type() === 'error') this.problems.add(page, user, 'console', message.text());
            });
            // An alert(), confirm() or prompt() is how injected script shows itself.
            page.on('dialog', (dialog) => {
                this.problems.add(page, user, 'dialog', `${dialog.type()}: ${dialog.message()}`);
                dialog.dismiss().catch(() => {});
            });
        };
        context.on('page', guard);
        if (foreignRequests === 'block') {
            // The UI's assets are built into the controller: a request anywhere else is a
            // bug or an injection (an <img src> to an attacker), never needed.
            const origin = this.url;
            await context.route(
                (url) => /^(https?|wss?):$/.test(url.protocol) && url.origin !== origin,
                (route) => {
                    const page = route.request().frame()?.page();
                    this.problems.add(page, user, 'foreign-request', route.request().url());
                    return route.abort('blockedbyclient');
                });
        }
        const page = await context.newPage();
        guard(page);
        return page;
    }

    // Returns, and forgets, the problems a page has had so far: for a scenario that makes
    // one on purpose (a refused request logs a console error) and checks it.
    takeProblems(page) {
        return this.problems.take(page);
    }

    // Runs one named step; it fails if fn throws or any page has a problem when it ends.
    async step(title, fn) {
        const number = ++this.steps;
        this.currentStep = `${number}. ${title}`;
        log(`step ${this.currentStep}`);
        const started = Date.now();
        const value = await fn();
        const problems = this.problems.takeAll();
        if (problems.length > 0) {
            throw new Error(`step '${title}' left problems in the browser:\n${describe(problems)}`);
        }
        log(`  ok (${Date.now() - started} ms)`);
        this.currentStep = null;
        return value;
    }

    // Retries fn (which asserts) until it stops throwing: for what the UI shows a little
    // later (a live update, a refresh). Fails with fn's last error after `timeout` ms.
    async eventually(fn, { timeout = 10_000, interval = 100, what = 'the condition' } = {}) {
        const deadline = Date.now() + timeout;
        for (;;) {
            try {
                return await fn();
            } catch (error) {
                if (Date.now() >= deadline) {
                    error.message = `${what} did not hold within ${timeout} ms: ${error.message}`;
                    throw error;
                }
            }
            await new Promise((resolve) => setTimeout(resolve, interval));
        }
    }

    // Waits until the locator's text contains `expected` (a string) or matches it (a RegExp).
    async expectText(locator, expected, { timeout = 10_000 } = {}) {
        log(`  expect ${locator} to show ${expected instanceof RegExp ? expected : JSON.stringify(expected)}`);
        return this.eventually(async () => {
            const text = await locator.innerText({ timeout: Math.min(timeout, 1_000) });
            if (expected instanceof RegExp) {
                assert.match(text, expected);
            } else {
                assert.ok(text.includes(expected), `the text is ${JSON.stringify(text)}`);
            }
            return text;
        }, { timeout, what: `${locator} showing ${expected}` });
    }

    // A full-page PNG at ARTIFACTS/<scenario>-<name>.png; returns its path.
    async screenshot(page, name) {
        const safe = String(name).replace(/[^A-Za-z0-9_.-]+/g, '-');
        const file = path.join(this.artifacts, `${this.name}-${safe}.png`);
        await page.screenshot({ path: file, fullPage: true });
        log(`  screenshot ${file}`);
        return file;
    }

    // After a failure: what every open page looked like, for the CI artefacts.
    async screenshotAll(label) {
        let i = 0;
        for (const { page, user } of this.pages) {
            if (page.isClosed()) continue;
            try {
                await this.screenshot(page, `${label}-${user}-${++i}`);
            } catch (error) {
                log(`  (no screenshot of a page of ${user}: ${error.message.split('\n')[0]})`);
            }
        }
    }
}

function failOnTimeout(ms, run) {
    let timer;
    const promise = new Promise((_, reject) => {
        timer = setTimeout(() => {
            const where = run.currentStep ? ` in step ${run.currentStep}` : '';
            reject(new Error(`the scenario did not finish within ${ms / 1000} s${where}`));
        }, ms);
    });
    return { promise, cancel: () => clearTimeout(timer) };
}

// Runs body(t) in a fresh headless chromium and exits the process: 0 when it passed, 1 when
// it failed (with the error, and a screenshot of every open page), 2 when it could not start.
// options.timeout (ms, default $HOSTLINE_BROWSER_TIMEOUT s or 90 s) bounds the whole run.
export async function scenario(body, options = {}) {
    const name = options.name || path.basename(process.argv[1] || 'scenario', '.mjs');
    const timeout = options.timeout ||
                    (Number(process.env.HOSTLINE_BROWSER_TIMEOUT) || 90) * 1000;
    let inputs;
    let chromium;
    try {
        inputs = readInputs(name);
        ({ chromium } = await import('playwright-core').catch((error) => {
            throw new SetupError(`playwright-core is not installed (${error.code}): ` +
                                 'run scripts/install-deps.sh');
        }));
    } catch (error) {
        log(`${name}: cannot start: ${error.message}`);
        process.exit(error instanceof SetupError ? kExitCannotStart : kExitFailed);
    }

    log(`${name}: chromium ${inputs.chromiumPath} against ${inputs.url}, ` +
        `screenshots in ${inputs.artifacts}`);
    const started = Date.now();
    let browser;
    try {
        browser = await chromium.launch({
            executablePath: inputs.chromiumPath,
            args: kChromiumArgs,
            timeout: 30_000,
        });
    } catch (error) {
        log(`${name}: cannot start chromium: ${error.message}`);
        process.exit(kExitCannotStart);
    }

    const run = new Run(inputs, browser);
    const deadline = failOnTimeout(timeout, run);
    let failure = null;
    try {
        await Promise.race([body(run), deadline.promise]);
        const left = run.problems.takeAll();
        if (left.length > 0) throw new Error(`problems in the browser after the last step:\n${describe(left)}`);
    } catch (error) {
        failure = error;
    } finally {
        deadline.cancel();
    }
    if (failure) {
        log(`${name}: FAILED${run.currentStep ? ` in step ${run.currentStep}` : ''}`);
        log(failure.stack || String(failure));
        await Promise.race([run.screenshotAll('failure'), new Promise((r) => setTimeout(r, 10_000))]);
    }
    // Closing can hang on a wedged browser; the exit below ends it (and the pipe it reads).
    await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5_000))]);
    if (failure) process.exit(kExitFailed);
    log(`${name}: passed (${run.steps} steps, ${Date.now() - started} ms)`);
    process.exit(0);
}
