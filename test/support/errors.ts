// The error envelope of EXCHANGE.md as tests read it.
import assert from 'node:assert/strict';

export interface ErrorJson {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

/** A 400 VALIDATION_FAILED with the envelope of EXCHANGE.md: its first detail's path and message. */
export function fieldError(r: { statusCode: number; body: string; json(): unknown }): {
  path: string;
  message: string;
} {
  assert.equal(r.statusCode, 400, r.body);
  const body = r.json() as ErrorJson;
  assert.equal(body.error.code, 'VALIDATION_FAILED', r.body);
  const detail = body.error.details?.[0];
  assert.ok(detail, r.body);
  return detail;
}
