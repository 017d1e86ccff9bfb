// Durable grant storage: one JSON object per line in DATA_DIR/grants.jsonl, keyed by the
// Idempotency-Key, on the shared append-only log (jsonl.mjs): an answer of 201 means the grant was
// fsync'ed and survives a crash; the file is read back at start.
import { openJsonLog } from './jsonl.mjs';

export const GRANTS_FILE = 'grants.jsonl';

export async function openGrantStore(dataDir) {
  const grants = [];
  const byKey = new Map();
  const log = await openJsonLog(dataDir, GRANTS_FILE, (grant) => {
    if (typeof grant.idempotency_key !== 'string' || byKey.has(grant.idempotency_key)) return;
    grants.push(grant);
    byKey.set(grant.idempotency_key, grant);
  });

  return {
    file: log.file,
    skipped: log.skipped,
    list: () => grants.slice(),
    get: (key) => byKey.get(key) ?? null,
    /** Stores the grant unless its key is known. Resolves { created, grant } (the stored grant). */
    put(key, record) {
      return log.transaction(async (append) => {
        const existing = byKey.get(key);
        if (existing) return { created: false, grant: existing };
        const grant = await append({ idempotency_key: key, ...record });
        grants.push(grant);
        byKey.set(key, grant);
        return { created: true, grant };
      });
    },
    close: log.close,
  };
}
