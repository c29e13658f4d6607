// The HTTP layer: Fastify 5 with TypeBox schemas. One schema per route validates the request,
// types the handler and writes the OpenAPI document. Errors leave in one envelope
// {"error": {code, message, details}} with messages in Chinese or English (Accept-Language).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  maxHeaderSize,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  type ConnectionError,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { sql } from 'kysely';
import type { Logger } from './logging.ts';
import {
  DomainError,
  DEFAULT_MESSAGES,
  HTTP_STATUS,
  type ErrorCode,
  type ErrorDetail,
  type Lang,
  type Message,
} from './errors.ts';
import type { AppContext } from './context.ts';
import { pendingMigrations } from './migrate.ts';
import { CONTROL_CHARACTER } from './normalize.ts';
import { installRouteConventions, preferredLanguage } from './http.conventions.ts';

export type App = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyRequest {
    lang: Lang;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in (sign-in itself, health, the API document). */
    public?: boolean;
  }
}

export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** The caller's language: the heavier of English and Chinese in Accept-Language, else Chinese. */
export function languageOf(header: string | string[] | undefined): Lang {
  return preferredLanguage(header);
}

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: 'ErrorEnvelope' },
);

interface AjvIssue {
  instancePath: string;
  schemaPath?: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** The string formats the schemas use, named for the person who typed the value. */
const FORMAT_NAMES: Record<string, Message> = {
  date: { zh: '日期（应为 YYYY-MM-DD，如 2026-03-01）', en: 'date (YYYY-MM-DD, e.g. 2026-03-01)' },
  'date-time': {
    zh: '日期时间（应为 ISO 8601，如 2026-03-01T08:00:00+08:00）',
    en: 'date and time (ISO 8601, e.g. 2026-03-01T08:00:00+08:00)',
  },
};

const KEYWORD_MESSAGES: Record<string, (p: Record<string, unknown>) => Message> = {
  required: (p) => ({ zh: `缺少必填字段 ${String(p.missingProperty)}`, en: `is required` }),
  pattern: () => ({ zh: '格式不正确', en: 'has the wrong format' }),
  format: (p) => {
    const named = FORMAT_NAMES[String(p.format)];
    return named
      ? { zh: `不是有效的${named.zh}`, en: `is not a valid ${named.en}` }
      : { zh: `格式不正确（应为 ${String(p.format)}）`, en: `is not a valid ${String(p.format)}` };
  },
  type: (p) => ({ zh: `类型应为 ${String(p.type)}`, en: `must be ${String(p.type)}` }),
  minLength: (p) => ({
    zh: `长度不能少于 ${String(p.limit)}`,
    en: `must have at least ${String(p.limit)} characters`,
  }),
  maxLength: (p) => ({
    zh: `长度不能超过 ${String(p.limit)}`,
    en: `must have at most ${String(p.limit)} characters`,
  }),
  minimum: (p) => ({ zh: `不能小于 ${String(p.limit)}`, en: `must be at least ${String(p.limit)}` }),
  maximum: (p) => ({ zh: `不能大于 ${String(p.limit)}`, en: `must be at most ${String(p.limit)}` }),
  enum: (p) => ({
    zh: `取值应为: ${(p.allowedValues as unknown[] | undefined)?.join(', ') ?? ''}`,
    en: `must be one of: ${(p.allowedValues as unknown[] | undefined)?.join(', ') ?? ''}`,
  }),
  const: (p) => ({ zh: `取值应为 ${String(p.allowedValue)}`, en: `must be ${String(p.allowedValue)}` }),
  additionalProperties: (p) => ({
    zh: `不允许的字段 ${String(p.additionalProperty)}`,
    en: `has an unknown field ${String(p.additionalProperty)}`,
  }),
  // A union's own summary, where no branch says more (see foldUnions): never Ajv's English.
  anyOf: () => ({ zh: '取值无效', en: 'is not valid' }),
  oneOf: () => ({ zh: '取值无效', en: 'is not valid' }),
};

/**
 * Ajv answers a value that fits no branch of a union (anyOf, oneOf) with every branch's complaint and
 * a summary of its own: for a nullable date "is not a valid date", "must be null" and "must match a
 * schema in anyOf", as if the clerk were asked to leave the field empty. Folded into the reasons a
 * person can act on: the null branch's "must be null" and the summary go, and branches that each allow
 * one value (1 or 2) become one list of the values. Inner unions fold first.
 */
function foldUnions(issues: AjvIssue[]): AjvIssue[] {
  let out = [...issues];
  const unions = issues
    .filter((issue) => (issue.keyword === 'anyOf' || issue.keyword === 'oneOf') && issue.schemaPath)
    .sort((a, b) => (b.schemaPath?.length ?? 0) - (a.schemaPath?.length ?? 0));
  for (const union of unions) {
    if (!out.includes(union)) continue;
    const prefix = `${union.schemaPath}/`;
    const branchOf = (issue: AjvIssue) => (issue.schemaPath ?? '').slice(prefix.length).split('/')[0] ?? '';
    const members = out.filter((issue) => issue !== union && issue.schemaPath?.startsWith(prefix));
    const nullBranch = (issue: AjvIssue) =>
      issue.keyword === 'type' &&
      issue.params.type === 'null' &&
      issue.schemaPath === `${prefix}${branchOf(issue)}/type`;
    const reasons = members.filter((issue) => !nullBranch(issue));
    // oneOf matching two branches has no branch complaint: its summary is the reason.
    if (!reasons.length) continue;
    const branches = new Set(reasons.map(branchOf));
    const allowsOne = (branch: string) =>
      reasons.some((i) => branchOf(i) === branch && (i.keyword === 'const' || i.keyword === 'enum'));
    const folded: AjvIssue[] = [...branches].every(allowsOne)
      ? [
          {
            instancePath: union.instancePath,
            schemaPath: union.schemaPath,
            keyword: 'enum',
            params: {
              allowedValues: [
                ...new Set(
                  reasons.flatMap((i) =>
                    i.keyword === 'const'
                      ? [i.params.allowedValue]
                      : i.keyword === 'enum'
                        ? ((i.params.allowedValues as unknown[] | undefined) ?? [])
                        : [],
                  ),
                ),
              ],
            },
          },
        ]
      : reasons;
    const at = out.indexOf(union);
    const dropped = new Set([union, ...members]);
    out = [
      ...out.slice(0, at).filter((issue) => !dropped.has(issue)),
      ...folded,
      ...out.slice(at + 1).filter((issue) => !dropped.has(issue)),
    ];
  }
  return out;
}

function detailsFromValidation(issues: AjvIssue[], context: string | undefined): ErrorDetail[] {
  const seen = new Set<string>();
  return foldUnions(issues).flatMap((issue) => {
    const segments = issue.instancePath.split('/').filter(Boolean);
    if (issue.keyword === 'required' && typeof issue.params.missingProperty === 'string')
      segments.push(issue.params.missingProperty);
    // An unknown property is named by its own path, so a client can tell which one to drop.
    if (issue.keyword === 'additionalProperties' && typeof issue.params.additionalProperty === 'string')
      segments.push(issue.params.additionalProperty);
    const field = segments.join('.') || context || 'body';
    const message = KEYWORD_MESSAGES[issue.keyword]?.(issue.params) ?? {
      zh: '取值无效',
      en: issue.message ?? 'is not valid',
    };
    // Branches of a union may give the same reason twice ("must be number" for 1 and for 2).
    const key = `${field}\u0000${message.zh}\u0000${message.en}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ path: field, message }];
  });
}

function badText(value: unknown, path: string, out: ErrorDetail[]): void {
  if (out.length >= 20) return;
  if (typeof value === 'string') {
    const field = path || 'body';
    if (CONTROL_CHARACTER.test(value))
      out.push({
        path: field,
        message: { zh: '含有不允许的控制字符', en: 'contains a control character' },
      });
    else if (!value.isWellFormed())
      out.push({
        path: field,
        message: {
          zh: '含有无效字符（不成对的 UTF-16 代理项）',
          en: 'contains an invalid character (an unpaired UTF-16 surrogate)',
        },
      });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => badText(item, path ? `${path}.${i}` : String(i), out));
    return;
  }
  if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key;
      if (CONTROL_CHARACTER.test(key) || !key.isWellFormed())
        out.push({
          path: field,
          message: { zh: '字段名含有无效字符', en: 'the field name contains an invalid character' },
        });
      else badText(item, field, out);
    }
}

/**
 * Numbers in a path or a query string as people write them: decimal digits, a minus sign and, where
 * the field takes fractions, a decimal point. Type coercion reads the string as JavaScript does, so
 * `/persons/0x10` was person 16, `1e3` was 1000 and ` 7` was 7: another record than the one written,
 * or a limit nobody typed.
 */
const PLAIN_INTEGER = /^-?\d+$/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

function unplainNumbers(part: unknown, schema: unknown, out: ErrorDetail[]): void {
  if (!part || typeof part !== 'object' || !schema || typeof schema !== 'object') return;
  const properties = ((schema as JsonSchema).properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, raw] of Object.entries(part as Record<string, unknown>)) {
    const property = properties[key];
    if (!property) continue;
    const types = leaves(property).flatMap(typesOf);
    const form = types.includes('string')
      ? null
      : types.includes('number')
        ? PLAIN_NUMBER
        : types.includes('integer')
          ? PLAIN_INTEGER
          : null;
    if (!form) continue;
    for (const value of Array.isArray(raw) ? raw : [raw])
      if (typeof value === 'string' && !form.test(value)) {
        out.push({
          path: key,
          message:
            form === PLAIN_INTEGER
              ? { zh: '应为整数（只能由数字组成）', en: 'must be a whole number written in digits' }
              : { zh: '应为数字（只能由数字和小数点组成）', en: 'must be a number written in digits' },
        });
        break;
      }
  }
}

/**
 * Numbers no field can hold. Coercion reads "Infinity", "1e999" and 400 nines as Infinity, and Ajv
 * checks `minimum` and `maximum` only on finite numbers and takes Infinity for an integer, so Infinity
 * passed every integer field (a path id, a limit, a body id) and reached PostgreSQL: a 500. An integer
 * beyond 2^53 is no longer the number sent, and beyond 2^63 no column holds it. Checked on the value as
 * sent, before coercion, in the path, the query string and the body alike: an integer field takes
 * only a safe integer, a number field only a finite number; the reason names the field's own limit.
 * A field that also takes text, and values with a fixed list (an enum), are left to their schema.
 */
function numbersOutOfRange(value: unknown, schema: JsonSchema, path: string, out: ErrorDetail[]): void {
  if (out.length >= 20 || value === null || value === undefined) return;
  const branches = leaves(schema);
  const numeric = branches.filter(
    (leaf) =>
      leaf.enum === undefined &&
      leaf.const === undefined &&
      (typesOf(leaf).includes('integer') || typesOf(leaf).includes('number')),
  );
  const scalar = numeric.length > 0 && !branches.some((leaf) => typesOf(leaf).includes('string'));
  if (scalar && (typeof value === 'number' || typeof value === 'string')) {
    const field = path || 'body';
    const reason = outOfRange(value, numeric);
    if (reason && !out.some((detail) => detail.path === field)) out.push({ path: field, message: reason });
    return;
  }
  if (typeof value !== 'object') return;
  const shape = objectBranch(schema);
  if (Array.isArray(value)) {
    const items = shape?.items as JsonSchema | undefined;
    if (items)
      value.forEach((item, i) => numbersOutOfRange(item, items, path ? `${path}.${i}` : String(i), out));
    // A repeated query parameter, or [x] where a number goes: coercion takes the array's one value.
    else if (scalar) for (const item of value) numbersOutOfRange(item, schema, path, out);
    return;
  }
  const properties = (shape?.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, item] of Object.entries(value)) {
    const property = properties[key];
    if (property) numbersOutOfRange(item, property, path ? `${path}.${key}` : key, out);
  }
}

/** Why a number as sent is beyond what its field holds, or null (also when it is no number at all). */
function outOfRange(value: number | string, numeric: JsonSchema[]): Message | null {
  const n = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  if (Number.isNaN(n)) return null;
  const integer = numeric.every((leaf) => !typesOf(leaf).includes('number'));
  const fits = integer
    ? Number.isSafeInteger(n) || (Number.isFinite(n) && !Number.isInteger(n))
    : Number.isFinite(n);
  if (fits) return null;
  const limits = (key: 'maximum' | 'minimum') =>
    numeric.map((leaf) => leaf[key]).filter((limit): limit is number => typeof limit === 'number');
  if (n > 0) {
    const limit = Math.min(...limits('maximum'), integer ? Number.MAX_SAFE_INTEGER : Infinity);
    return Number.isFinite(limit)
      ? { zh: `不能大于 ${String(limit)}`, en: `must be at most ${String(limit)}` }
      : { zh: '数值过大', en: 'is too large a number' };
  }
  const limit = Math.max(...limits('minimum'), integer ? -Number.MAX_SAFE_INTEGER : -Infinity);
  return Number.isFinite(limit)
    ? { zh: `不能小于 ${String(limit)}`, en: `must be at least ${String(limit)}` }
    : { zh: '数值过小', en: 'is too small a number' };
}

/**
 * How deeply a request's JSON may nest. No body of this API needs more than a few levels (a fact's
 * data, a household's assets, a group configuration); a body of nested brackets within the size
 * limit (`[[[[…]]]]`, 500,000 levels in 1 MB) would overflow the stack of every check that walks
 * the value (the text checks below, the validator, the services' JSON.stringify) and answer 500.
 */
export const MAX_JSON_DEPTH = 64;

/** True when the value nests deeper than `max` arrays or objects; walked without recursion. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (!item || typeof item !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(item))
      if (child && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Headers on every answer. The web app loads nothing from elsewhere and runs no inline script, so the
 * content security policy allows only its own origin (styles inline too: Ant Design writes its CSS at
 * run time); no page may be framed (clickjacking a reveal or an approval); no address, with its ids,
 * leaves in a Referer; a file is never read as another type than it is sent as. Behind TLS
 * (SECURE_COOKIES) browsers are told to keep to HTTPS.
 */
export function securityHeadersFor(secure: boolean): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    ...(secure ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

type JsonSchema = { [key: string]: unknown };

function allowsNull(schema: JsonSchema): boolean {
  if (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))) return true;
  const branches = [...((schema.anyOf as JsonSchema[]) ?? []), ...((schema.oneOf as JsonSchema[]) ?? [])];
  if (branches.length) return branches.some(allowsNull);
  // A schema without a type (free-form data) takes anything.
  return schema.type === undefined && schema.const === undefined && schema.enum === undefined;
}

/** The schema that describes the properties of an object value (the object branch of a union). */
function objectBranch(schema: JsonSchema): JsonSchema | null {
  if (schema.properties || schema.items) return schema;
  for (const branch of [
    ...((schema.anyOf as JsonSchema[]) ?? []),
    ...((schema.oneOf as JsonSchema[]) ?? []),
  ]) {
    const found = objectBranch(branch);
    if (found) return found;
  }
  return null;
}

/** The branches of a schema that are not unions: the leaves its value is checked against. */
function leaves(schema: JsonSchema): JsonSchema[] {
  const branches = [...((schema.anyOf as JsonSchema[]) ?? []), ...((schema.oneOf as JsonSchema[]) ?? [])];
  return branches.length ? branches.flatMap(leaves) : [schema];
}

const typesOf = (leaf: JsonSchema): string[] =>
  leaf.type === undefined ? [] : Array.isArray(leaf.type) ? (leaf.type as string[]) : [leaf.type as string];

/**
 * Why type coercion would give a scalar a meaning it does not have, or null when it would not:
 * false for a number is 0 and true is 1 (sex 1, male), and 0 or false where a field takes an id or
 * null is null (PATCH {"householdId": 0} took the person out of the household). The schema's own
 * words: what type the field is, or its minimum.
 */
function coercedMeaning(value: unknown, schema: JsonSchema): Message | null {
  if (typeof value !== 'boolean' && value !== 0) return null;
  const typed = leaves(schema).filter((leaf) => !typesOf(leaf).includes('null'));
  // Free-form data (no type) takes anything as it is.
  if (typed.some((leaf) => leaf.type === undefined && leaf.const === undefined && leaf.enum === undefined))
    return null;
  if (typeof value === 'boolean') {
    if (typed.some((leaf) => typesOf(leaf).includes('boolean') || typeof leaf.const === 'boolean'))
      return null;
    const type = typesOf(typed[0] ?? {})[0] ?? 'null';
    return { zh: `类型应为 ${type}`, en: `must be ${type}` };
  }
  // 0 is coerced to null only where the field takes null and none of its other forms takes 0 (a
  // boolean takes it as false).
  if (!allowsNull(schema)) return null;
  const takesZero = (leaf: JsonSchema) =>
    typesOf(leaf).includes('boolean') ||
    ((typesOf(leaf).includes('integer') || typesOf(leaf).includes('number')) &&
      (leaf.const === undefined || leaf.const === 0) &&
      (leaf.enum === undefined || (leaf.enum as unknown[]).includes(0)) &&
      (typeof leaf.minimum !== 'number' || leaf.minimum <= 0) &&
      (typeof leaf.exclusiveMinimum !== 'number' || leaf.exclusiveMinimum < 0) &&
      (typeof leaf.maximum !== 'number' || leaf.maximum >= 0));
  if (typed.some(takesZero) || !typed.length) return null;
  const minimum = typed.map((leaf) => leaf.minimum).find((m) => typeof m === 'number');
  return minimum !== undefined
    ? { zh: `不能小于 ${String(minimum)}`, en: `must be at least ${String(minimum)}` }
    : { zh: '取值无效（0 不是有效值）', en: 'is not valid (0 is not one of its values)' };
}

function nullsRefused(value: unknown, schema: JsonSchema, path: string, out: ErrorDetail[]): void {
  if (value === null) {
    if (!allowsNull(schema))
      out.push({ path: path || 'body', message: { zh: '不能为 null', en: 'must not be null' } });
    return;
  }
  const coerced = coercedMeaning(value, schema);
  if (coerced) {
    out.push({ path: path || 'body', message: coerced });
    return;
  }
  if (typeof value !== 'object') return;
  const shape = objectBranch(schema);
  if (!shape) return;
  if (Array.isArray(value)) {
    const items = shape.items as JsonSchema | undefined;
    if (items) value.forEach((item, i) => nullsRefused(item, items, path ? `${path}.${i}` : String(i), out));
    return;
  }
  const properties = (shape.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, item] of Object.entries(value)) {
    const property = properties[key];
    if (property) nullsRefused(item, property, path ? `${path}.${key}` : key, out);
  }
}

function envelope(code: ErrorCode, message: Message, details: ErrorDetail[], lang: Lang) {
  return {
    error: {
      code,
      message: message[lang],
      ...(details.length
        ? { details: details.map((d) => ({ path: d.path, message: d.message[lang] })) }
        : {}),
    },
  };
}

function toDomainError(
  error: FastifyError & { validation?: AjvIssue[]; validationContext?: string },
): DomainError {
  if (error instanceof DomainError) return error;
  if (error.validation) {
    return new DomainError(
      'VALIDATION_FAILED',
      DEFAULT_MESSAGES.VALIDATION_FAILED,
      detailsFromValidation(error.validation, error.validationContext),
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DomainError('MALFORMED_JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new DomainError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new DomainError('UNSUPPORTED_MEDIA_TYPE');
    default:
      break;
  }
  const status = error.statusCode ?? 500;
  if (status === 404) return new DomainError('NOT_FOUND');
  if (status === 413) return new DomainError('PAYLOAD_TOO_LARGE');
  if (status === 415) return new DomainError('UNSUPPORTED_MEDIA_TYPE');
  if (status === 429) return new DomainError('RATE_LIMITED');
  if (status >= 400 && status < 500)
    return new DomainError('VALIDATION_FAILED', {
      zh: '请求无效',
      en: error.message || 'The request is not valid',
    });
  return new DomainError('INTERNAL');
}

/** The integer types of PostgreSQL, with their ranges as the database prints them. */
const INTEGER_RANGES: Record<string, [string, string]> = {
  smallint: ['-32768', '32767'],
  integer: ['-2147483648', '2147483647'],
  bigint: ['-9223372036854775808', '9223372036854775807'],
};

/** The dotted path of the first scalar in the request parts whose text is `text`, or null. */
function fieldHolding(text: string, parts: unknown[]): string | null {
  const stack: [unknown, string][] = parts.map((part) => [part, '']);
  while (stack.length) {
    const [value, path] = stack.shift() as [unknown, string];
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object') {
      if (path && String(value) === text) return path;
      continue;
    }
    for (const [key, item] of Object.entries(value)) stack.push([item, path ? `${path}.${key}` : key]);
  }
  return null;
}

/**
 * A value of the request that the database refused: out of its column's range (SQLSTATE 22003: an
 * int4 column beside a field the schema caps at 2^53) or not of the column's type (22P02). That is bad
 * input, a 400 naming the field like every other, not a 500. The schemas refuse such values first
 * (numbersOutOfRange); this is the net for a column narrower than its field. A refused value that
 * the request does not hold is the server's own (a sum that overflowed) and stays a 500.
 */
function refusedByDatabase(error: unknown, request: FastifyRequest): DomainError | null {
  if (!error || typeof error !== 'object') return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return null;
  const range = code === '22003' ? /^value "(.*)" is out of range for type ([a-z ]+)$/.exec(message) : null;
  const syntax = code === '22P02' ? /^invalid input syntax for type ([a-z ]+): "(.*)"$/.exec(message) : null;
  const [text, type] = range ? [range[1], range[2]] : syntax ? [syntax[2], syntax[1]] : [];
  if (text === undefined || type === undefined) return null;
  const field = fieldHolding(text, [request.params, request.query, request.body]);
  if (!field) return null;
  const bounds = INTEGER_RANGES[type];
  const reason: Message = !range
    ? { zh: '取值无效', en: 'is not valid' }
    : !bounds
      ? { zh: '超出允许范围', en: 'is out of range' }
      : text.startsWith('-')
        ? { zh: `不能小于 ${bounds[0]}`, en: `must be at least ${bounds[0]}` }
        : { zh: `不能大于 ${bounds[1]}`, en: `must be at most ${bounds[1]}` };
  return new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, [
    { path: field, message: reason },
  ]);
}

/** The Accept-Language of a request the HTTP parser gave up on, read from its raw bytes, if there. */
function rawAcceptLanguage(packet: unknown): string | undefined {
  if (!Buffer.isBuffer(packet)) return undefined;
  const head = packet.toString('latin1').split('\r\n\r\n')[0] ?? '';
  return /\r\naccept-language:[ \t]*([^\r\n]*)/i.exec(head)?.[1];
}

/** What Node's HTTP parser reads of a request line and headers (--max-http-header-size), in KB. */
const HEADER_KB = Math.floor(maxHeaderSize / 1024);

/**
 * The answer to a request Node's HTTP parser refused before Fastify saw it: a request line or headers
 * beyond the 16 KB the parser reads (431), headers that never finished arriving (408), or bytes that
 * are no HTTP (400). It goes out on the bare socket, so it is written whole here: the envelope in the
 * language the request's raw bytes ask for, with the request id and the security headers every answer
 * carries, and the connection closed (the parser cannot read on).
 */
function clientErrorAnswer(error: ConnectionError, securityHeaders: Record<string, string>): string {
  const domain =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new DomainError('HEADERS_TOO_LARGE', {
          zh: `${DEFAULT_MESSAGES.HEADERS_TOO_LARGE.zh}（合计不能超过 ${HEADER_KB} KB）`,
          en: `${DEFAULT_MESSAGES.HEADERS_TOO_LARGE.en} (${HEADER_KB} KB together at most)`,
        })
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new DomainError('REQUEST_TIMEOUT')
        : new DomainError('VALIDATION_FAILED', {
            zh: '请求不是有效的 HTTP 请求',
            en: 'The request is not a valid HTTP request',
          });
  const status = HTTP_STATUS[domain.code];
  const lang = languageOf(rawAcceptLanguage(error.rawPacket as unknown));
  const body = JSON.stringify(envelope(domain.code, domain.userMessage, domain.details, lang));
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': randomUUID(),
    'cache-control': 'no-store',
    ...securityHeaders,
    connection: 'close',
  };
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    body,
  ].join('\r\n');
}

export interface BuildAppOptions {
  ctx: AppContext;
  logger: Logger;
  /** Registers the modules' routes; called inside the /api/v1 prefix. */
  routes: (app: App, ctx: AppContext) => Promise<void> | void;
  serveWeb?: boolean;
}

export async function buildApp({ ctx, logger, routes, serveWeb = true }: BuildAppOptions): Promise<App> {
  const securityHeaders = securityHeadersFor(ctx.config.secureCookies);
  const app = Fastify({
    loggerInstance: logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{8,64}$/.test(given) ? given : randomUUID();
    },
    bodyLimit: 1024 * 1024,
    // A path parameter as long as the request line allows reaches validation, which names it; the
    // router's own limit (100) would refuse it without naming anything.
    routerOptions: { maxParamLength: 16 * 1024 },
    trustProxy: ctx.config.trustProxy,
    ajv: {
      customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false },
      onCreate: (ajv) => {
        // Year 0000 passes RFC 3339 but is no calendar year (1 BC precedes AD 1): PostgreSQL refuses
        // it, so it is refused here, as "not a valid date", before it reaches a query.
        for (const name of ['date', 'date-time']) {
          const format = ajv.formats[name];
          if (typeof format !== 'object' || format instanceof RegExp || !('validate' in format)) continue;
          if (typeof format.validate !== 'function') continue;
          const validate = format.validate as (value: string) => boolean;
          ajv.addFormat(name, {
            ...format,
            validate: (value: string) => !value.startsWith('0000') && validate(value),
          } as typeof format);
        }
      },
    },
    // Errors the router raises before any hook runs (an undecodable path) leave in the envelope too.
    frameworkErrors: (error, request, reply) => {
      const domain =
        error.code === 'FST_ERR_BAD_URL'
          ? new DomainError('VALIDATION_FAILED', {
              zh: '网址中含有无法解码的字符',
              en: 'The address contains characters that cannot be decoded',
            })
          : toDomainError(error);
      const lang = languageOf(request.headers['accept-language']);
      void (reply as unknown as FastifyReply)
        .status(HTTP_STATUS[domain.code])
        .send(envelope(domain.code, domain.userMessage, domain.details, lang));
    },
    // Requests Node's HTTP parser refuses (a request line or headers over 16 KB) never reach a hook or
    // the error handler: their answer is written here, in the envelope like every other.
    clientErrorHandler: (error: ConnectionError, socket: Socket) => {
      // A reset connection has gone; there is no one to answer.
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      logger.info({ code: error.code }, 'request refused by the HTTP parser');
      if (socket.writable) socket.end(clientErrorAnswer(error, securityHeaders), () => socket.destroy());
      else socket.destroy();
    },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  // While closing, in-flight requests finish and their connections close after the response, so
  // shutdown does not wait for keep-alive connections to time out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    app.server.closeIdleConnections();
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.decorateRequest('lang', 'zh');
  app.addHook('onRequest', async (request, reply) => {
    request.lang = languageOf(request.headers['accept-language']);
    reply.header('x-request-id', request.id);
    reply.headers(securityHeaders);
    // What the API answers is personal data: no browser, shared office computer or proxy keeps a
    // copy (the web app's built files set their own caching below).
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });

  app.addSchema(ErrorEnvelope);

  // Text that no field may hold: control characters (PostgreSQL cannot store NUL; the others are
  // invisible garbage in a name or an address) and unpaired surrogates (not Unicode: they would be
  // stored as U+FFFD). Refused before validation, naming the field, so nothing is half-written.
  // So is a null in a body field whose schema has no null: type coercion would turn it into 0, ""
  // or false (a setting of 0, an empty reason) instead of refusing it; and a boolean where the field
  // is no boolean, or a 0 where it takes an id or null, which coercion would turn into 1, 0 or null.
  // First of all, a body nested deeper than MAX_JSON_DEPTH is refused, before anything walks it.
  app.addHook('preValidation', async (request) => {
    if (nestsDeeperThan(request.body, MAX_JSON_DEPTH))
      throw new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, [
        {
          path: 'body',
          message: {
            zh: `嵌套层数过多（最多 ${MAX_JSON_DEPTH} 层）`,
            en: `is nested too deeply (at most ${MAX_JSON_DEPTH} levels)`,
          },
        },
      ]);
    const details: ErrorDetail[] = [];
    for (const part of [request.params, request.query, request.body])
      if (part && typeof part === 'object') badText(part, '', details);
    const routeSchema = request.routeOptions.schema;
    unplainNumbers(request.params, routeSchema?.params, details);
    unplainNumbers(request.query, routeSchema?.querystring, details);
    for (const [part, schema] of [
      [request.params, routeSchema?.params],
      [request.query, routeSchema?.querystring],
      [request.body, routeSchema?.body],
    ] as const)
      if (schema && typeof schema === 'object') numbersOutOfRange(part, schema as JsonSchema, '', details);
    const bodySchema = request.routeOptions.schema?.body;
    if (!details.length && bodySchema && request.body && typeof request.body === 'object')
      nullsRefused(request.body, bodySchema as JsonSchema, '', details);
    if (details.length)
      throw new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, details);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const refused = refusedByDatabase(error, request);
    const domain = refused ?? toDomainError(error);
    const status = HTTP_STATUS[domain.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    // A field whose schema lets through what its column cannot hold: worth an operator's look.
    else if (refused) request.log.warn({ err: error }, 'request refused by the database');
    else request.log.info({ code: domain.code }, 'request refused');
    void reply.status(status).send(envelope(domain.code, domain.userMessage, domain.details, request.lang));
  });

  const conventions = installRouteConventions(app as unknown as FastifyInstance);
  app.setNotFoundHandler((request, reply) => {
    // The web app's own paths (/persons/12) get index.html; a missing built file (/assets/x.js)
    // is a real 404, so a stale page asks for a reload instead of parsing HTML as JavaScript.
    if (
      serveWeb &&
      request.method === 'GET' &&
      !request.url.startsWith('/api/') &&
      !request.url.startsWith('/assets/') &&
      fs.existsSync(WEB_DIST)
    ) {
      return reply.type('text/html').header('cache-control', 'no-cache').sendFile('index.html');
    }
    // A path the API has, asked with a method it does not take: 405 with the methods it takes
    // (OPTIONS asks for them: 204).
    const allowed = conventions.allowedMethods(request.url);
    if (allowed.length) {
      void reply.header('allow', allowed.join(', '));
      if (request.method === 'OPTIONS') return reply.status(204).send();
      return reply
        .status(405)
        .send(envelope('METHOD_NOT_ALLOWED', DEFAULT_MESSAGES.METHOD_NOT_ALLOWED, [], request.lang));
    }
    return reply.status(404).send(envelope('NOT_FOUND', DEFAULT_MESSAGES.NOT_FOUND, [], request.lang));
  });

  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: 512 * 1024 * 1024, files: 1 } });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Shouhu API',
        description: '守护: 农村留守儿童、妇女、老年人关爱服务与社会保障信息系统',
        version: '1',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'shouhu_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });

  app.get('/health', { schema: { hide: true }, config: { public: true } }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: { hide: true }, config: { public: true } }, async (_request, reply) => {
    try {
      await sql`SELECT 1`.execute(ctx.db);
      const pending = await pendingMigrations(ctx.database);
      if (pending.length) return reply.status(503).send({ status: 'migrating', pending });
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });

  await app.register(
    async (api) => {
      api.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () =>
        app.swagger(),
      );
      await routes(api as App, ctx);
    },
    { prefix: '/api/v1' },
  );

  if (serveWeb && fs.existsSync(WEB_DIST)) {
    // Built assets have content hashes in their names: cache them for a year. index.html is not.
    await app.register(fastifyStatic, {
      root: WEB_DIST,
      prefix: '/',
      wildcard: true,
      setHeaders: (res, filePath) => {
        void res.header(
          'cache-control',
          filePath.includes(`${path.sep}assets${path.sep}`)
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        );
      },
    });
  }

  return app;
}

export type { FastifyRequest };
