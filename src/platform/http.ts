// The HTTP layer: Fastify 5 with TypeBox schemas. One schema per route validates the request,
// types the handler and writes the OpenAPI document. Errors leave in one envelope
// {"error": {code, message, details}} with messages in Chinese or English (Accept-Language).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, {
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
};

function detailsFromValidation(issues: AjvIssue[], context: string | undefined): ErrorDetail[] {
  return issues.map((issue) => {
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
    return { path: field, message };
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

export interface BuildAppOptions {
  ctx: AppContext;
  logger: Logger;
  /** Registers the modules' routes; called inside the /api/v1 prefix. */
  routes: (app: App, ctx: AppContext) => Promise<void> | void;
  serveWeb?: boolean;
}

export async function buildApp({ ctx, logger, routes, serveWeb = true }: BuildAppOptions): Promise<App> {
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
  const securityHeaders = securityHeadersFor(ctx.config.secureCookies);
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
    const bodySchema = request.routeOptions.schema?.body;
    if (!details.length && bodySchema && request.body && typeof request.body === 'object')
      nullsRefused(request.body, bodySchema as JsonSchema, '', details);
    if (details.length)
      throw new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, details);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const domain = toDomainError(error);
    const status = HTTP_STATUS[domain.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
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
