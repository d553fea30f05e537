import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/** A number as digits, with or without the `+` of E.164; more than 20 digits is no number. */
const DIGITS = /^(\+?)(\d{1,20})$/;
/** A NANP national number has 10 digits: without `+`, only more than that can carry a country code. */
const NATIONAL_DIGITS = 10;
/** E.164 allows at most 15 digits, country code included. */
const MAX_E164_DIGITS = 15;
/**
 * Spellings kept, so the library parses a number once: an account's numbers recur in every event
 * (the DIDs in `tn`, both parties in each state of a call). Parsing costs about 10 µs a number,
 * a cached answer well under one; the cache starts afresh when full, bounding it to about 1 MB.
 */
const MAX_CACHED = 10_000;
const cache = new Map<string, string>();

/**
 * How the bridge spells a telephone number: E.164 (`+` and digits) where the digits carry a
 * country code, otherwise as received (only the whitespace around it is dropped), so `from`, `to`
 * and `tn` of one event are spelled alike.
 *
 * - A leading `+` marks an international number: E.164 when it is a valid number.
 * - Without `+`, more than 10 digits that form a valid number with the country code they start
 *   with (`18382050008`: the 1 of NANP) get the `+`.
 * - 10 digits or fewer without `+` stay as received: Opentact is a NANP carrier, so `4158531285`
 *   is a national number with no country code (never +41 58…), and short codes are short.
 * - Anything but digits (SIP user ids, URIs, formatted text) is returned unchanged.
 * - The digits themselves are never changed: at most a `+` is added.
 *
 * Validity comes from libphonenumber-js with its small ("min") metadata: it knows each country's
 * codes and number lengths and leading digits, which a hand-written rule would not (an 11-digit
 * number starting with 1 whose area code is no NANP area code stays as received).
 */
export function spellTelephoneNumber(text: string): string {
  const match = DIGITS.exec(text.trim());
  if (match === null) {
    return text;
  }
  const [, plus, digits] = match;
  const received = plus + digits;
  if ((plus === '' && digits.length <= NATIONAL_DIGITS) || digits.length > MAX_E164_DIGITS) {
    return received;
  }
  let spelled = cache.get(received);
  if (spelled === undefined) {
    const e164 = `+${digits}`;
    const parsed = parsePhoneNumberFromString(e164);
    // The library reads a national prefix after the country code (+7 8…) as a slip and drops it;
    // the bridge never changes digits, so only a number valid exactly as received gets its `+`.
    spelled = parsed !== undefined && parsed.isValid() && parsed.number === e164 ? e164 : received;
    if (cache.size >= MAX_CACHED) {
      cache.clear();
    }
    cache.set(received, spelled);
  }
  return spelled;
}
