// @slack/socket-mode's SocketModeClient against FakeSlack: it opens a link through
// apps.connections.open, waits for hello, acks the events_api envelopes it gets and emits
// their events, and when the fake asks it to go (a disconnect message) opens a fresh link
// through apps.connections.open again. The C++ test drives the fake while this runs; this
// ends once it has connected twice and acked an event on each link.
//
// In: SLACK_API_URL, SLACK_APP_TOKEN.  Out: JSON lines (lib/report.mjs).
import { SocketModeClient } from '@slack/socket-mode';

import { stderrLogger } from './lib/logger.mjs';
import { deadline, failure, input, saw } from './lib/report.mjs';

const client = new SocketModeClient({
  appToken: input('SLACK_APP_TOKEN'),
  logger: stderrLogger('socket-mode'),
  // The SDK's defaults otherwise (reconnecting on, its ping timeouts): what an app runs with.
  clientOptions: { slackApiUrl: input('SLACK_API_URL') },
});

let connects = 0;
let events = 0;
deadline(20000, () => ({ connects, events }));

client.on('authenticated', (answer) => saw('apps.connections.open', { url: answer.url }));
client.on('connecting', () => saw('connecting'));
client.on('reconnecting', () => saw('reconnecting'));
client.on('connected', () => {
  connects += 1;
  saw('connected', { connects });
});
client.on('error', (error) => saw('error', failure(error)));

client.on('message', async ({ ack, envelope_id, event, retry_num, retry_reason }) => {
  await ack();
  events += 1;
  saw('event', {
    envelope_id,
    type: event.type,
    user: event.user,
    channel: event.channel,
    text: event.text,
    retry_num,
    retry_reason,
    on_link: connects,
  });
  if (connects >= 2 && events >= 2) {
    await client.disconnect();
    saw('done');
    process.exit(0);
  }
});

try {
  await client.start();
} catch (error) {
  saw('start_failed', failure(error));
  process.exit(1);
}
