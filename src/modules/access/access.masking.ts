// Masking of sensitive personal information (PIPL art. 28: minors' data is sensitive). Every
// response shows ID numbers and phones masked; the unmasked value is only returned by an explicit
// reveal (pattern: POST /api/v1/persons/{id}/reveal), which needs persons.reveal in scope and is
// audited in the transaction that reads the value.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { maskPhone } from '../../platform/normalize.ts';
import { requireAccess, type Actor } from './access.policy.ts';
import { recordReveal } from './audit.ts';

export type SensitiveKind = 'idNumber' | 'phone';

/** 41022520080101123X → 4102**********123X (the same shape as the registry's maskIdNumber). */
function maskId(id: string): string {
  const s = id.trim();
  if (s.length <= 8) return '*'.repeat(s.length);
  return `${s.slice(0, 4)}${'*'.repeat(s.length - 8)}${s.slice(-4)}`;
}

export function maskValue(value: string, kind: SensitiveKind): string {
  return kind === 'idNumber' ? maskId(value) : maskPhone(value);
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
