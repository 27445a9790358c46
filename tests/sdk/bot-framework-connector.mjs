// botframework-connector's ConnectorClient replying to a Teams conversation on the fake Bot
// Framework: its credentials get a token from the fake's token endpoint through MSAL, and the
// reply and its update go to the fake's conversation sink with that token.
//
// The credentials come from MsalServiceClientCredentialsFactory with an MSAL client whose
// authority is the fake's, not from `new MicrosoftAppCredentials(...)`: that class builds its
// MSAL client itself, with no way to say the authority is trusted (MSAL's knownAuthorities), so
// for any authority host but Microsoft's own MSAL first asks login.microsoftonline.com's
// instance discovery, a URL fixed in MSAL. Both end in the SDK's MsalAppCredentials, which is
// what gets and attaches the token (docs/sdk-checks.md).
//
// In: BF_APP_ID, BF_APP_PASSWORD, BF_AUTHORITY (the fake's https://127.0.0.1:PORT/botframework.com),
//     BF_ACTIVITY (the inbound activity being answered, JSON).
// Out: JSON lines (lib/report.mjs).
import { ConfidentialClientApplication } from '@azure/msal-node';
import {
  AuthenticationConstants,
  ConnectorClient,
  MsalServiceClientCredentialsFactory,
} from 'botframework-connector';

import { deadline, failure, input, saw } from './lib/report.mjs';

deadline(20000, () => 'the reply and the update to be sent');

const appId = input('BF_APP_ID');
const authority = input('BF_AUTHORITY');
const activity = JSON.parse(input('BF_ACTIVITY'));

const msal = new ConfidentialClientApplication({
  auth: {
    clientId: appId,
    clientSecret: input('BF_APP_PASSWORD'),
    authority,
    knownAuthorities: [new URL(authority).host],
  },
});
const factory = new MsalServiceClientCredentialsFactory(appId, msal);
const credentials = await factory.createCredentials(
  appId,
  AuthenticationConstants.ToChannelFromBotOAuthScope,
  authority,
  true,
);

try {
  const token = await credentials.getToken();
  saw('token', { token });
} catch (error) {
  saw('token_failed', failure(error));
  process.exit(1);
}

const connector = new ConnectorClient(credentials, { baseUri: activity.serviceUrl });
const conversationId = activity.conversation.id;
const reply = {
  type: 'message',
  text: 'Job #7: uptime on web-1 is running',
  from: activity.recipient,
  recipient: activity.from,
  conversation: activity.conversation,
  replyToId: activity.id,
};
try {
  const sent = await connector.conversations.sendToConversation(conversationId, reply);
  saw('sent', { id: sent.id });
  const updated = await connector.conversations.updateActivity(conversationId, sent.id, {
    ...reply,
    id: sent.id,
    text: 'Job #7: uptime on web-1 succeeded',
  });
  saw('updated', { id: updated.id });
} catch (error) {
  saw('send_failed', failure(error));
  process.exit(1);
}
saw('done');
