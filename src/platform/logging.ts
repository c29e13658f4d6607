// Structured logs (pino, JSON lines). Personal data never reaches the log: every finished line
// passes through redactSensitive (ID numbers and mobile numbers anywhere in the text), and values
// under secret-looking keys are replaced before serialisation. Request bodies are never logged.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { redactObject, redactSensitive } from './redact.ts';

export type { Logger };

// Query parameters whose values name nobody (codes, dates, page sizes, choices from a list): kept in
// the log so that an operator can follow a request. Every other value (q, idNumber, householdNo,
// actor, a parameter no route knows) is what a clerk typed to find someone: a child's name, a phone
// typed with spaces (138%205555%208888) or an ID number in full-width digits, which redactSensitive
// does not recognise once URL-encoded. Such a value is logged as [REDACTED], its name kept.
const PLAIN_QUERY = new Set([
  'limit',
  'cursor',
  'region',
  'within',
  'asOf',
  'from',
  'to',
  'format',
  'dryRun',
  'kind',
  'fact',
  'group',
  'status',
  'action',
  'result',
]);

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

// A path segment of this API's own words, ids and codes, or a mark redaction already put there (a
// URL can pass through twice); anything else (a percent-encoded name a client typed into a path:
// /persons/%E5%BC%A0%E4%B8%89) is what someone entered, not a route.
const PLAIN_SEGMENT = /^(?:[A-Za-z0-9._~:@-]*|\[[A-Z]+\])$/;

/** A request path as the log shows it: each segment that is not plain replaced. */
function loggedPath(path: string): string {
  return path
    .split('/')
    .map((segment) => (PLAIN_SEGMENT.test(segment) ? segment : '[REDACTED]'))
    .join('/');
}

/**
 * A request URL as the log shows it: the path with only plain segments kept, and the query with only
 * plain values kept.
 */
export function loggedUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return redactSensitive(loggedPath(url));
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      if (PLAIN_QUERY.has(decodedName(name))) return pair;
      return eq < 0 ? '[REDACTED]' : `${name}=[REDACTED]`;
    });
  return redactSensitive(`${loggedPath(url.slice(0, at))}?${query.join('&')}`);
}

/** A destination that redacts each line before passing it on. */
export function redactingStream(target: { write(chunk: string): unknown }): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      target.write(redactSensitive(typeof chunk === 'string' ? chunk : chunk.toString('utf8')));
      callback();
    },
  });
}

/**
 * An error as the log shows it. A database error carries the row it refused: a unique violation's
 * detail is `Key (household_no)=(张三家) already exists.`, a not-null one's `Failing row contains (...)`,
 * and `where`, `internalQuery` and a driver's `parameters` can hold the values of the statement. The
 * values are replaced and the columns, constraint, table and SQLSTATE kept: enough for an operator to
 * find the cause, nothing of the person (ID numbers and phones were redacted before; names and
 * household numbers were not).
 */
export function loggedError(error: unknown): unknown {
  if (!error || typeof error !== 'object') return error;
  // The log formatter has made it a plain object already (redactObject); an Error if called directly.
  const serialized = (error instanceof Error ? pino.stdSerializers.err(error) : error) as unknown as Record<
    string,
    unknown
  >;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (key === 'where' || key === 'internalQuery' || key === 'parameters' || key === 'query') continue;
    if (typeof value !== 'string') out[key] = value;
    else if (key === 'detail') out[key] = redactedDetail(value);
    else if (key === 'message' || key === 'stack') out[key] = value.replace(INPUT_VALUE, '$1"[REDACTED]"');
    else out[key] = value;
  }
  return out;
}

// `invalid input syntax for type date: "张三"`: the message quotes the value it could not read.
const INPUT_VALUE = /(invalid input (?:syntax|value)[^:\n]*: )"[^\n]*"/g;

function redactedDetail(detail: string): string {
  return detail
    .replace(/\)=\(.*\)(?=\s|$)/s, ')=([REDACTED])')
    .replace(/(Failing row contains )\(.*\)/s, '$1([REDACTED])');
}

export function createLogger(
  level: string,
  destination: { write(chunk: string): unknown } = process.stdout,
): Logger {
  return pino(
    {
      level,
      base: { service: 'shouhu' },
      formatters: { log: (object) => redactObject(object) as Record<string, unknown> },
      serializers: {
        err: loggedError,
        req: (req: {
          id?: string;
          method?: string;
          url?: string;
          ip?: string;
          raw?: { url?: string; method?: string };
          socket?: { remoteAddress?: string };
        }) => ({
          id: req.id,
          method: req.method ?? req.raw?.method,
          url: loggedUrl(String(req.url ?? req.raw?.url ?? '')),
          ip: req.ip ?? req.socket?.remoteAddress,
        }),
        res: (res: { statusCode?: number; raw?: { statusCode?: number } }) => ({
          statusCode: res.statusCode ?? res.raw?.statusCode,
        }),
      },
    },
    redactingStream(destination),
  );
}
