// The API conventions of EXCHANGE.md that hold for every route, applied as routes are added rather
// than remembered route by route: a query parameter no route names is refused (like a body field),
// a method a path does not take is 405 with Allow (OPTIONS lists them), a body that is not JSON is
// 415, and the API document lists the error answers every route can give.
import type { FastifyInstance, RouteOptions } from 'fastify';

type JsonSchema = { [key: string]: unknown };

const ENVELOPE = { $ref: 'ErrorEnvelope#' };
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Accept-Language as RFC 9110 reads it: each language with its weight (q, 1 when absent; q=0 is
 * "not this one"); the heaviest of English and Chinese wins, the earlier on a tie; Chinese when the
 * header names neither. "fr,en;q=0.5" is English and "zh;q=0.1,en" is English.
 */
export function preferredLanguage(header: string | string[] | undefined): 'zh' | 'en' {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  let best: { lang: 'zh' | 'en'; q: number } | null = null;
  for (const entry of value.split(',')) {
    const [tag = '', ...params] = entry.split(';').map((part) => part.trim());
    const primary = tag.toLowerCase().split('-')[0];
    if (primary !== 'en' && primary !== 'zh') continue;
    const weight = params.find((p) => /^q\s*=/i.test(p));
    const q = weight === undefined ? 1 : Number(weight.replace(/^q\s*=\s*/i, ''));
    if (!Number.isFinite(q) || q <= 0 || q > 1) continue;
    if (!best || q > best.q) best = { lang: primary, q };
  }
  return best?.lang ?? 'zh';
}

function methodsOf(route: RouteOptions): string[] {
  return (Array.isArray(route.method) ? route.method : [route.method]).map((m) => m.toUpperCase());
}

/** A route's path as a regular expression over the request's path (parameters match one segment). */
function pathPattern(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+)/)
    .map((part, i) => (i % 2 ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

export interface RouteConventions {
  /** The methods the path takes (with HEAD and OPTIONS), or none when no route has the path. */
  allowedMethods(url: string): string[];
}

/** Installs the conventions on the app; call before any route is added. */
export function installRouteConventions(app: FastifyInstance): RouteConventions {
  const table: { pattern: RegExp; methods: string[] }[] = [];

  // A plain-text body is no JSON: 415 like any other type the API does not read, not the 400 of a
  // body that "must be object" (Fastify reads text/plain by default).
  app.removeContentTypeParser('text/plain');

  app.addHook('onRoute', (route) => {
    const methods = methodsOf(route);
    // Wildcard routes (the web app's files) take any path; they are no path of the API.
    if (!route.url.includes('*')) table.push({ pattern: pathPattern(route.url), methods });
    const schema = route.schema as (JsonSchema & { response?: Record<string, unknown> }) | undefined;
    if (!schema || schema.hide) return;
    // A query parameter the route does not name is refused, naming it: `?regoin=` is a typo whose
    // filter would otherwise be dropped and the whole scope listed.
    const query = schema.querystring as JsonSchema | undefined;
    const next: JsonSchema = { ...schema };
    if (!query) next.querystring = { type: 'object', properties: {}, additionalProperties: false };
    else if (query.type === 'object' && query.additionalProperties === undefined)
      next.querystring = { ...query, additionalProperties: false };
    // Every error answer a route can give is in the document: 400 (a query, a path), 401 and 403
    // (sign-in, CSRF, permission) unless public, 404 for a path with an id, 413 and 415 for a body.
    const isPublic = (route.config as { public?: boolean } | undefined)?.public === true;
    const errors: Record<string, unknown> = { 400: ENVELOPE };
    if (!isPublic) Object.assign(errors, { 401: ENVELOPE, 403: ENVELOPE });
    if (route.url.includes(':')) errors[404] = ENVELOPE;
    if (methods.some((m) => BODY_METHODS.has(m))) Object.assign(errors, { 413: ENVELOPE, 415: ENVELOPE });
    const response = { ...errors, ...(schema.response ?? {}) };
    // A download (no answer schema of its own) keeps its 200 in the document: the file.
    if (!Object.keys(response).some((status) => status.startsWith('2')))
      response[200] = { description: 'The file', type: 'string', format: 'binary' };
    next.response = response;
    route.schema = next;
  });

  return {
    allowedMethods(url) {
      const path = url.split('?')[0] ?? '';
      const methods = new Set<string>();
      for (const route of table) if (route.pattern.test(path)) route.methods.forEach((m) => methods.add(m));
      if (!methods.size) return [];
      if (methods.has('GET')) methods.add('HEAD');
      methods.add('OPTIONS');
      return [...methods].sort();
    },
  };
}
