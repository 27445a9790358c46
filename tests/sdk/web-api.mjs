// @slack/web-api's WebClient against FakeSlack: a documented error rejects with its code, the
// methods Hostline calls answer ok, and a 429 with Retry-After is waited out and retried by the
// SDK itself. The C++ test sets up the fake before this runs: chat.postMessage to CNOPE fails
// with channel_not_found, and users.info answers 429 (Retry-After: 1) once.
//
// In: SLACK_API_URL, SLACK_BOT_TOKEN.  Out: JSON lines (lib/report.mjs).
import { WebClient, WebClientEvent } from '@slack/web-api';

import { stderrLogger } from './lib/logger.mjs';
import { deadline, failure, input, saw } from './lib/report.mjs';

deadline(20000, () => 'the Web API calls to end');

const web = new WebClient(input('SLACK_BOT_TOKEN'), {
  slackApiUrl: input('SLACK_API_URL'),
  logger: stderrLogger('web-api'),
  rejectRateLimitedCalls: false,
  // After the Retry-After wait, p-retry's own backoff: short, so the check stays quick.
  retryConfig: { retries: 2, factor: 1, minTimeout: 50, maxTimeout: 50 },
});
web.on(WebClientEvent.RATE_LIMITED, (seconds, { url }) => saw('rate_limited', { seconds, url }));

try {
  const answer = await web.chat.postMessage({ channel: 'CNOPE', text: 'nobody reads this' });
  saw('answer', { method: 'chat.postMessage', channel: 'CNOPE', ok: answer.ok });
} catch (error) {
  saw('rejected', { method: 'chat.postMessage', channel: 'CNOPE', ...failure(error) });
}

const posted = await web.chat.postMessage({
  channel: 'C111',
  text: 'Job #7: uptime on web-1 is running',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Job #7*: running' } }],
});
saw('answer', { method: 'chat.postMessage', ok: posted.ok, channel: posted.channel, ts: posted.ts });

const updated = await web.chat.update({
  channel: posted.channel,
  ts: posted.ts,
  text: 'Job #7: uptime on web-1 succeeded',
});
saw('answer', { method: 'chat.update', ok: updated.ok, ts: updated.ts, text: updated.text });

const reacted = await web.reactions.add({
  channel: posted.channel,
  timestamp: posted.ts,
  name: 'white_check_mark',
});
saw('answer', { method: 'reactions.add', ok: reacted.ok });

const started = Date.now();
const who = await web.users.info({ user: 'U222' });
saw('answer', {
  method: 'users.info',
  ok: who.ok,
  real_name: who.user?.real_name,
  took_ms: Date.now() - started,
});
saw('done');
