// Durable grant storage: one JSON object per line in DATA_DIR/grants.jsonl, keyed by the
// Idempotency-Key. Appends are serialised and fsync'ed before the sink answers, so an answer of
// 201 means the grant survives a crash; the file is read back at start.
import fs from 'node:fs';
import path from 'node:path';

export const GRANTS_FILE = 'grants.jsonl';

export async function openGrantStore(dataDir) {
  await fs.promises.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, GRANTS_FILE);
  const grants = [];
  const byKey = new Map();
  let skipped = 0;

  const text = await fs.promises.readFile(file, 'utf8').catch((err) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let grant;
    try {
      grant = JSON.parse(line);
    } catch {
      skipped += 1; // a line torn by a crash mid-write: it was never acknowledged
      continue;
    }
    if (typeof grant?.idempotency_key !== 'string' || byKey.has(grant.idempotency_key)) continue;
    grants.push(grant);
    byKey.set(grant.idempotency_key, grant);
  }

  const handle = await fs.promises.open(file, 'a');
  let needsNewline = text.length > 0 && !text.endsWith('\n');
  let queue = Promise.resolve();

  /** Runs fn after every earlier write, so check-then-append is atomic. */
  function serialised(fn) {
    const run = queue.then(fn);
    queue = run.catch(() => {});
    return run;
  }

  return {
    file,
    skipped,
    list: () => grants.slice(),
    get: (key) => byKey.get(key) ?? null,
    /** Stores the grant unless its key is known. Resolves { created, grant } (the stored grant). */
    put(key, record) {
      return serialised(async () => {
        const existing = byKey.get(key);
        if (existing) return { created: false, grant: existing };
        const grant = { idempotency_key: key, ...record };
        await handle.appendFile(`${needsNewline ? '\n' : ''}${JSON.stringify(grant)}\n`);
        await handle.datasync();
        needsNewline = false;
        grants.push(grant);
        byKey.set(key, grant);
        return { created: true, grant };
      });
    },
    close: () => serialised(() => handle.close()),
  };
}
