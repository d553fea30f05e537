import { createHash } from 'node:crypto';
import { type Frame, MAX_ID_LENGTH } from './frame-fields';

/** Values that identify one event of a kind: entity uuid, state, timestamps, kind-specific extras. */
export type EventIdentity = readonly (string | number | boolean | undefined)[];

const SUB_MILLISECOND = /T[^.]*\.\d{3}(\d+)/;

/**
 * A timestamp as it takes part in an id: epoch milliseconds. Opentact sends ISO strings, but in
 * several spellings (`Z` or `+00:00`, 3 or 6 decimals) and sometimes numbers; reading only strings
 * left a numeric timestamp out of the id, so two events told apart only by it collided. Digits
 * below the millisecond are kept (as `<ms>.<digits>`) so they still tell events apart; a string
 * that is no date at all is kept as it is.
 */
export function identityTime(value: unknown): number | string | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value !== 'string') {
    return undefined;
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    return value;
  }
  const extra = SUB_MILLISECOND.exec(value)?.[1].replace(/0+$/, '');
  return extra ? `${ms}.${extra}` : ms;
}

const HASH_PREFIX = 'h_';
const UUID_HASH_PREFIX = 'u_';
const HASH_HEX_LENGTH = 32;

/**
 * What `webhook-id` and the signed content `<id>.<timestamp>.<body>` carry unchanged: visible
 * ASCII, so nothing for HTTP to trim at either end (space, tab), to refuse (CR, LF, NUL) or to
 * spell in another charset (anything past 0x7E), and no longer than the bridge keeps ids.
 */
const HEADER_SAFE_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_ID_LENGTH}}$`);

/**
 * The event id for an envelope `uuid`: the uuid itself when a header carries it as it is, and
 * otherwise `u_` + the first 32 hex characters of sha256 over the uuid as a JSON string.
 *
 * Quarantining such a frame would hold back an event Opentact did send; trimming or replacing
 * characters would merge distinct uuids (` a` and `a`) and drop one as a duplicate. The hash is
 * the same every time the frame is received, so dedup stays stable, and the uuid as sent is still
 * in the event's `raw`. JSON-quoting first keeps lone surrogates apart, which UTF-8 would merge.
 * A uuid that already starts with `u_` or `h_` is hashed too, so no kept uuid can take the id of a
 * hashed one or of a derived one.
 */
export function eventIdOfUuid(uuid: string): string {
  if (
    HEADER_SAFE_ID.test(uuid) &&
    !uuid.startsWith(UUID_HASH_PREFIX) &&
    !uuid.startsWith(HASH_PREFIX)
  ) {
    return uuid;
  }
  const hex = createHash('sha256').update(JSON.stringify(uuid)).digest('hex');
  return UUID_HASH_PREFIX + hex.slice(0, HASH_HEX_LENGTH);
}

/**
 * Opentact's older frames carry no event id, but the queue deduplicates by id, so an id is derived
 * from what identifies the event: the same frame received twice must get the same id, and two
 * different events must not collide (a collision would silently drop an event).
 *
 * Rule: sha256 over the JSON array [frame key, ...identity, envelope timestamp, envelope
 * created_on], where `identity` comes from the kind's reader (entity uuid, state, entity
 * modified_on, plus the amount and source_action for balance and the command for call_flow), and
 * every timestamp is in epoch milliseconds (see identityTime). Both
 * the entity's modified_on and the envelope's timestamp are included because two call-flow
 * commands on one call can share the call's modified_on. When the reader found nothing that
 * anchors the event (no entity uuid; no timestamp for balance), the whole frame is hashed as
 * key-sorted JSON instead. Result: `h_` + the first 32 hex characters.
 */
export function derivedEventId(
  frameKey: string,
  frame: Frame,
  identity: EventIdentity | undefined,
): string {
  const canonical =
    identity === undefined
      ? canonicalJson(frame)
      : JSON.stringify([
          frameKey,
          ...identity.map((part) => part ?? null),
          identityTime(frame.timestamp) ?? null,
          identityTime(frame.created_on) ?? null,
        ]);
  const hex = createHash('sha256').update(canonical).digest('hex');
  return HASH_PREFIX + hex.slice(0, HASH_HEX_LENGTH);
}

/**
 * JSON with object keys sorted at every level, so key order on the wire does not change the id.
 * Recursion is safe: the normaliser rejects frames nested deeper than MAX_FRAME_DEPTH first.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
