// Test actors: real API tokens issued through the access module, sent as Authorization: Bearer.
import { createToken, type Role } from '../../src/modules/access/index.ts';
import type { TestApp } from './db.ts';

export async function bearer(
  t: TestApp,
  role: Role,
  regionCode: string | null,
  options: { individualAccess?: boolean } = {},
): Promise<Record<string, string>> {
  const { token } = await createToken(t.ctx, null, {
    name: `test ${role} ${regionCode ?? ''}`,
    role,
    regionCode,
    individualAccess: options.individualAccess ?? false,
    expiresInDays: 1,
  });
  return { authorization: `Bearer ${token}` };
}
