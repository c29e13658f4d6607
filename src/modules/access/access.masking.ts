// Masking of sensitive personal information (PIPL art. 28: minors' data is sensitive). Every
// response shows ID numbers and phones masked; the unmasked value is only returned by an explicit
// reveal (pattern: POST /api/v1/persons/{id}/reveal), which needs persons.reveal in scope and is
// audited in the transaction that reads the value.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { maskIdNumber, maskPhone } from '../../platform/normalize.ts';
import { requireAccess, type Actor } from './access.policy.ts';
import { recordReveal } from './audit.ts';

export type SensitiveKind = 'idNumber' | 'phone';

export function maskValue(value: string, kind: SensitiveKind): string {
  return kind === 'idNumber' ? maskIdNumber(value) : maskPhone(value);
}

/**
 * The value as this actor may see it in a list or a record: always masked. Roles that may reveal
 * (persons.reveal) still get the masked value here; they call revealForActor to see the rest.
 */
export function maskForActor(_actor: Actor, value: string | null, kind: SensitiveKind): string | null {
  if (value === null) return null;
  return maskValue(value, kind);
}

/**
 * The unmasked value, for an actor allowed to reveal it for a record in its scope. Writes the
 * "revealed" audit entry in the caller's transaction; throws FORBIDDEN otherwise (callers turn an
 * out-of-scope record into NOT_FOUND before calling, so ids cannot be probed).
 */
export async function revealForActor(
  trx: Kysely<DB> | Transaction<DB>,
  actor: Actor,
  target: { entityType?: string; entityId: string | number; regionCode: string; field: SensitiveKind },
  value: string,
): Promise<string> {
  requireAccess(actor, 'persons.reveal', { regionCode: target.regionCode, individual: true });
  await recordReveal(trx, actor, target);
  return value;
}
