/**
 * The per-caller hourly budget of refusals for ID numbers registered to others (docs/DECISIONS.md "At
 * most 20 such refusals per caller per hour"). Shared by the API's create and update
 * (registry.service.ts idTaken) and the template import of a caller who may not reveal ID numbers
 * (registry.import.ts): both answer whether a number is registered, so both draw on one budget.
 * Kept in memory, per database handle (a test's app, the server's), per caller.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';

/** At most this many refusals for a taken ID number per caller within ID_TAKEN_WINDOW_MS (then 429). */
export const ID_TAKEN_LIMIT = 20;
export const ID_TAKEN_WINDOW_MS = 60 * 60 * 1000;

/** The caller a budget belongs to: a user, or an API token (as an import's uploader is keyed). */
export interface BudgetCaller {
  userId: number | null;
  tokenId: number | null;
}

/** Per database handle, per caller: the times of the recent refusals. */
const idTakenRefusals = new WeakMap<Kysely<DB>, Map<string, number[]>>();

const keyOf = (caller: BudgetCaller) =>
  caller.userId !== null ? `u${caller.userId}` : `t${caller.tokenId ?? 0}`;

/** A caller's refusals for a taken number within the window (the older ones forgotten). */
export function recentIdTaken(db: Kysely<DB>, caller: BudgetCaller): number[] {
  let callers = idTakenRefusals.get(db);
  if (!callers) {
    callers = new Map();
    idTakenRefusals.set(db, callers);
  }
  const key = keyOf(caller);
  const since = Date.now() - ID_TAKEN_WINDOW_MS;
  const recent = (callers.get(key) ?? []).filter((at) => at > since);
  if (recent.length) callers.set(key, recent);
  else callers.delete(key);
  // Bounded: a caller's list never grows past the limit, and stale callers are dropped when the map grows.
  if (callers.size > 10_000)
    for (const [k, times] of callers) if (!times.some((at) => at > since)) callers.delete(k);
  return recent;
}

/**
 * Counts `n` more refusals for a taken number against the caller (at most what is left of the
 * budget: the list stays bounded by the limit). Synchronous with the check before it (recentIdTaken),
 * so two imports of one caller running at once cannot both spend the same budget.
 */
export function countIdTaken(db: Kysely<DB>, caller: BudgetCaller, n = 1): void {
  const recent = recentIdTaken(db, caller);
  const add = Math.max(0, Math.min(n, ID_TAKEN_LIMIT - recent.length));
  const now = Date.now();
  idTakenRefusals.get(db)?.set(keyOf(caller), [...recent, ...Array.from({ length: add }, () => now)]);
}

/** The refusals left to the caller within the window. */
export function idTakenLeft(db: Kysely<DB>, caller: BudgetCaller): number {
  return Math.max(0, ID_TAKEN_LIMIT - recentIdTaken(db, caller).length);
}

/** Minutes until the oldest counted refusal leaves the window (at least 1). */
export function minutesUntilFreed(db: Kysely<DB>, caller: BudgetCaller): number {
  const recent = recentIdTaken(db, caller);
  if (!recent.length) return 1;
  return Math.max(1, Math.ceil((Math.min(...recent) + ID_TAKEN_WINDOW_MS - Date.now()) / 60_000));
}
