// The routes of the API as the app itself documents them (GET /api/v1/openapi.json): method, path,
// parameters and request body schema. Tests that walk every route take their list from here, so a
// route added later is walked without anyone remembering to add it.
import type { App } from '../../src/platform/http.ts';

export const API_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** A JSON schema as the document carries it (TypeBox output, inline). */
export type JsonSchema = Record<string, unknown>;

export interface ApiParameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

export interface ApiOperation {
  /** "POST /api/v1/persons" */
  key: string;
  method: string;
  path: string;
  parameters: ApiParameter[];
  /** The request body: its content type and schema, or null when the route takes none. */
  body: { contentType: string; schema: JsonSchema } | null;
}

interface DocOperation {
  parameters?: ApiParameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export async function apiOperations(app: App): Promise<ApiOperation[]> {
  const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
    paths: Record<string, Partial<Record<string, DocOperation>>>;
  };
  const out: ApiOperation[] = [];
  for (const [path, operations] of Object.entries(doc.paths))
    for (const method of API_METHODS) {
      const op = operations[method];
      if (!op) continue;
      const [contentType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
      out.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: contentType ? { contentType, schema: media?.schema ?? {} } : null,
      });
    }
  return out;
}
