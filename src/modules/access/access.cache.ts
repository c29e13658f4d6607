// Resolved sign-ins (who a session cookie or an API token is), kept in memory for a few seconds
// (AUTH_CACHE_SECONDS) so that an ordinary request needs no database round trip to learn who is
// asking. Every use case that changes what a sign-in resolves to (logout, revocation, disabling,
// a password or role change, TOTP) forgets the affected entries after its commit, so in this
// process the change holds from the very next request. Another server process on the same
// database sees it once its own entry is older than the TTL (see DECISIONS.md).
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.ts';
import type { DB } from '../../platform/db.schema.ts';

/** What an entry belongs to, so that a change to a user or a token finds its entries. */
export interface SignInOwner {
  userId: number | null;
  tokenId: number | null;
}

interface Slot<V> {
  value: V;
  owner: SignInOwner;
  /** Date.now() from which the entry is not used any more. */
  staleAt: number;
}

export class SignInCache<V> {
  readonly #entries = new Map<string, Slot<V>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  #generation = 0;

  constructor(ttlMs: number, maxEntries = 10_000) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Take this before reading the database and pass it to `put`: an entry read before a change was
   * forgotten (a read racing the change's commit) is then not stored.
   */
  generation(): number {
    return this.#generation;
  }

  get(key: string, now = Date.now()): V | undefined {
    const slot = this.#entries.get(key);
    if (!slot) return undefined;
    if (slot.staleAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return slot.value;
  }

  put(key: string, value: V, owner: SignInOwner, generation: number, now = Date.now()): void {
    if (this.#ttlMs <= 0 || generation !== this.#generation) return;
    this.#entries.delete(key);
    // Bounded: the oldest entry (Map keeps insertion order) makes room.
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, owner, staleAt: now + this.#ttlMs });
  }

  /** Removes an entry that was found dead (not a change: concurrent reads may still store). */
  drop(key: string): void {
    this.#entries.delete(key);
  }

  forgetKey(key: string): void {
    this.#generation += 1;
    this.#entries.delete(key);
  }

  /** Forgets every entry of the user (all sessions) or of the token. */
  forget(owner: Partial<SignInOwner>): void {
    this.#generation += 1;
    for (const [key, slot] of this.#entries) {
      if (
        (owner.userId != null && slot.owner.userId === owner.userId) ||
        (owner.tokenId != null && slot.owner.tokenId === owner.tokenId)
      )
        this.#entries.delete(key);
    }
  }

  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
  }
}

// One cache per database handle: every context of this process on the same database shares it,
// so a console command run inside the server clears what the HTTP routes use.
const caches = new WeakMap<Kysely<DB>, SignInCache<unknown>>();

export function signInCache<V>(ctx: Pick<AppContext, 'db' | 'config'>): SignInCache<V> {
  let cache = caches.get(ctx.db);
  if (!cache) {
    cache = new SignInCache<unknown>(ctx.config.authCacheSeconds * 1000);
    caches.set(ctx.db, cache);
  }
  return cache as SignInCache<V>;
}
