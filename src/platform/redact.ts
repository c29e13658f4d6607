// Redaction for logs: citizen ID numbers and mainland mobile numbers never reach a log line, and
// the values of secret-bearing fields (passwords, tokens, cookies, TOTP, recovery codes) are
// replaced whole. Over-redacting a harmless number is acceptable; leaking an ID number is not.

const DIGIT = '[0-9\\uFF10-\\uFF19]';
const CHECK_X = '[Xx\\uFF38\\uFF58]';
// Not preceded by a digit, except the hex digits of a URL escape such as %22 or %2522
// (%22110105... is a quoted ID number inside URL-encoded JSON).
// Nor by a decimal point: the fraction of a timing such as 10.6968029999989085 is not an ID.
const START = `(?:(?<!${DIGIT}|\\.${DIGIT}*)|(?<=%(?:25)?[0-9A-Fa-f]{2}))`;
const END = `(?!${DIGIT})`;

const ID_NUMBER = new RegExp(`${START}(?:${DIGIT}{17}(?:${DIGIT}|${CHECK_X})|${DIGIT}{15})${END}`, 'g');

const SEP = '[\\s-]?';
const MOBILE = `[1\\uFF11][3-9\\uFF13-\\uFF19]${DIGIT}${SEP}${DIGIT}{4}${SEP}${DIGIT}{4}`;
const COUNTRY = `(?:(?:\\+|%2[Bb]|00)?86${SEP})?`;
const MOBILE_NUMBER = new RegExp(`${START}${COUNTRY}${MOBILE}${END}`, 'g');

/**
 * Replaces what looks like a citizen ID number (18 digits, 17 digits + X, or 15 digits, not part of
 * a longer run of digits) with [ID], and a mainland mobile number (11 digits starting 13-19, with an
 * optional +86 prefix) with [PHONE]. Works inside URLs, query strings, JSON and URL-encoded text.
 */
export function redactSensitive(text: string): string {
  // Phones first: 0086 + a mobile is 15 digits, as long as an old ID number. The boundaries keep a
  // phone match from ever taking part of a longer ID number.
  return text.replace(MOBILE_NUMBER, '[PHONE]').replace(ID_NUMBER, '[ID]');
}

const SECRET_KEY = /password|passwd|token|secret|authorization|cookie|totp|recoverycode|apikey/i;

/** True for a key whose value is a secret (password, accessToken, set-cookie, recovery_codes ...). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/[-_\s.]/g, ''));
}

const MAX_DEPTH = 32;

function redactValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactSensitive(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    // An ID or phone number kept as a number (from a spreadsheet) is as sensitive as its text.
    const text = String(value);
    const redacted = redactSensitive(text);
    return redacted === text ? value : redacted;
  }
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, seen, depth + 1));
    const out: Record<string, unknown> = {};
    if (value instanceof Error) {
      // message and stack are not enumerable but are what a logger prints.
      out['name'] = value.name;
      out['message'] = redactSensitive(value.message);
      if (value.stack !== undefined) out['stack'] = redactSensitive(value.stack);
    }
    for (const [key, item] of Object.entries(value)) {
      out[redactSensitive(key)] = isSecretKey(key) ? '[REDACTED]' : redactValue(item, seen, depth + 1);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * A redacted copy of a value for logging: strings (and object keys) pass through redactSensitive,
 * numbers that are ID or phone numbers become [ID] / [PHONE], and the whole value of a key named
 * like password, token, secret, authorization, cookie, totp or recoveryCode becomes [REDACTED].
 * Errors become plain objects with name, message and stack. The input is not modified.
 */
export function redactObject(value: unknown): unknown {
  return redactValue(value, new WeakSet(), 0);
}
