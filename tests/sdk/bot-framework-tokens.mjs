// botframework-connector's own validation of the Bot Connector's tokens (JwtTokenValidation,
// which goes through ChannelValidation and JwtTokenExtractor) against the fake Bot Framework's
// OpenID metadata and JWKS: one authenticateRequest per token the C++ test minted, each
// reported as accepted (with the claims the SDK read) or rejected (with the SDK's reason).
//
// In: BF_OPENID_METADATA_URL, BF_APP_ID, BF_ACTIVITY (an inbound activity, JSON),
//     BF_CASES (JSON: [{name, token, channel_id?}]; channel_id replaces the activity's).
// Out: JSON lines (lib/report.mjs).
import {
  ChannelValidation,
  JwtTokenValidation,
  SimpleCredentialProvider,
} from 'botframework-connector';

import { deadline, failure, input, saw } from './lib/report.mjs';

deadline(20000, () => 'the validations to end');

// The one setting the SDK offers for where the channel's keys are published.
ChannelValidation.OpenIdMetadataEndpoint = input('BF_OPENID_METADATA_URL');
const credentials = new SimpleCredentialProvider(input('BF_APP_ID'), '');
const activity = JSON.parse(input('BF_ACTIVITY'));

for (const c of JSON.parse(input('BF_CASES'))) {
  const inbound = { ...activity, channelId: c.channel_id ?? activity.channelId };
  const header = c.token ? `Bearer ${c.token}` : '';
  try {
    const identity = await JwtTokenValidation.authenticateRequest(inbound, header, credentials, '');
    const claims = Object.fromEntries(identity.claims.map((claim) => [claim.type, claim.value]));
    saw('accepted', { case: c.name, authenticated: identity.isAuthenticated, claims });
  } catch (error) {
    saw('rejected', { case: c.name, ...failure(error) });
  }
}
saw('done');
