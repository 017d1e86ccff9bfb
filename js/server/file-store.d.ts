// Types of js/server/file-store.js, and the grant store interface both stores implement.

/** A checked grant: permission to send one message to openid with templateId and scene. */
export interface Grant {
  appid: string;
  openid: string;
  templateId: string;
  scene: number;
  /** The subscription's nonce: the grant's identity and its Idempotency-Key. */
  reserved: string;
}

/** stored → sending (a claim's lease) → sent | refused | blocked | unknown; 'stored' again to retry. */
export type GrantState = 'stored' | 'sending' | 'sent' | 'refused' | 'blocked' | 'unknown';

/** A grant as the store keeps it. Times are milliseconds since the epoch. */
export interface StoredGrant extends Grant {
  state: GrantState;
  receivedAt: number;
  /** Insertion order, increasing per store. */
  sequence: number;
  /** Send attempts claimed so far. */
  attempts: number;
  /** A 'stored' grant is claimable from this time (receivedAt at first). */
  dueAt: number;
  /** While 'sending': when the claim's lease ends and another sender may take the grant. */
  leaseUntil: number | null;
  /** WeChat's last answer, if any. */
  errcode: number | null;
  /** The last outcome's name, e.g. 'user_refused', 'no_answer' (never a token). */
  detail: string | null;
  updatedAt: number;
}

/** A grant claimed for sending; `lease` is an id unique to this claim. */
export interface Claim {
  grant: StoredGrant;
  lease: string;
}

/** How a claim ended. */
export interface ClaimOutcome {
  state: 'sent' | 'refused' | 'blocked' | 'unknown' | 'stored';
  errcode?: number | null;
  detail?: string | null;
  /** With 'stored': claimable again after this many milliseconds (default 0). */
  retryInMs?: number;
}

/** Where grants are kept: the file store (openFileStore) or PostgreSQL (pgStore). Every method rejects with a
 * SubscribeError: 'store_unavailable' when the store cannot be reached or written, 'invalid_option' (or the field's
 * own code) for a bad argument. */
export interface GrantStore {
  /** Atomic insert-if-absent by reserved; resolves only once durable (fsync / COMMIT). `created` is false when the
   * reserved was known: `grant` is then the stored one, which may differ from the one passed. */
  insert(grant: Grant): Promise<{ created: boolean; grant: StoredGrant }>;
  get(reserved: string): Promise<StoredGrant | null>;
  /** In sequence order. */
  list(filter?: { state?: GrantState; openid?: string }): Promise<StoredGrant[]>;
  /** Atomically moves up to `limit` (default 1, at most 1000) due grants — 'stored' with dueAt <= now, or 'sending'
   * whose leaseUntil has passed (a sender died) — to 'sending' with a new lease (leaseUntil = now + leaseMs,
   * attempts + 1), oldest sequence first; with `reserved`, only that grant. Two claimers never hold the same grant
   * at once. */
  claim(options: { leaseMs: number; limit?: number; reserved?: string }): Promise<Claim[]>;
  /** Ends a claim while its lease is the current one (same lease id, state 'sending'); false otherwise (the lease
   * expired and someone else took the grant). 'stored' puts it back, claimable after retryInMs. */
  finish(claim: Claim, outcome: ClaimOutcome): Promise<boolean>;
  /** True when a grant with the same (openid, templateId, scene) and a higher sequence is 'stored' or 'sending'. */
  hasNewer(grant: StoredGrant): Promise<boolean>;
  /** Moves every 'blocked' grant back to 'stored' (after the site fixed the cause); resolves how many. */
  unblock(): Promise<number>;
  /** Waits for pending writes, then releases the store (the file's lock); later calls reject. */
  close(): Promise<void>;
}

/**
 * Opens (creating) a grant log at `path`: an fsync'd append-only file of JSON lines, for one process on one
 * machine. A second process opening the same file is refused with 'store_locked' (naming the file and the pid);
 * a lock left by a process that died is taken over.
 */
export function openFileStore(path: string): Promise<GrantStore>;
