/**
 * Prints the deflate dictionary the event log compresses webhook bodies with: the shapes of the
 * most common events of both envelope generations (keys, constant values and punctuation), with
 * identifiers, times and numbers blanked, most common last (deflate favours near matches).
 *
 * It was run once to write src/events/event-body.dictionary.ts. That dictionary is frozen: every
 * entry compressed with it needs exactly it to be read back, so a better one becomes a new
 * format version beside it, never a replacement.
 *
 *   npx ts-node --transpile-only scripts/generate-body-dictionary.ts
 */
import 'reflect-metadata';
import { loadConfig } from '../src/config/app-config';
import { EventNormalizer } from '../src/events/event-normalizer.service';
import { webhookBody } from '../src/events/webhook-body';
import {
  BALANCE_NEWER,
  CALL_HANGUP_NEWER,
  CALL_RINGING_OLDER,
  SMS_INBOUND_NEWER,
  SMS_OUTBOUND_OLDER,
} from '../test/fixtures/opentact-frames';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;
const HEX32 = /"[0-9a-f]{32}"/g;
const DIGITS = /\d{6,}/g;
/** Account details and message text of the fixtures are example data, not shape. */
const PERSONAL = /"(email|name|address1|address2|city|zip_code|text)":"[^"]*"/g;

function blank(body: string): string {
  return body
    .replace(UUID, '')
    .replace(ISO, '')
    .replace(HEX32, '""')
    .replace(DIGITS, '')
    .replace(PERSONAL, '"$1":""');
}

const normalizer = new EventNormalizer(
  loadConfig({ OPENTACT_EMAIL: 'x@y.z', OPENTACT_PASSWORD: 'x', ADMIN_API_KEY: 'x'.repeat(32) }),
);
const frames = [
  BALANCE_NEWER,
  SMS_OUTBOUND_OLDER,
  SMS_INBOUND_NEWER,
  CALL_RINGING_OLDER,
  CALL_HANGUP_NEWER,
];
const parts: string[] = [];
for (const frame of frames) {
  const outcome = normalizer.normalize(JSON.stringify(frame), false, new Date(0));
  if (outcome.kind !== 'event') {
    throw new Error(`fixture did not normalise: ${JSON.stringify(outcome)}`);
  }
  parts.push(blank(webhookBody(outcome.event)));
}
process.stdout.write(`${parts.join('')}\n`);
