// A durable append-only log of JSON objects, one per line (DATA_DIR/*.jsonl), for the grants, the send log and
// the simulated WeChat's state. Every append is fsync'ed before it resolves,
// appends are serialised (so check-then-append is atomic inside transaction()), and the file is
// replayed at start; a line torn by a crash mid-write was never acknowledged and is skipped.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Opens (creating if needed) dataDir/name and calls replay(entry) for each stored entry, in order.
 * Resolves { file, skipped, append(entry), transaction(fn), close() }.
 */
export async function openJsonLog(dataDir, name, replay = () => {}) {
  await fs.promises.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, name);
  const text = await fs.promises.readFile(file, 'utf8').catch((err) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      skipped += 1;
      continue;
    }
    if (entry !== null && typeof entry === 'object') replay(entry);
  }

  const handle = await fs.promises.open(file, 'a');
  let needsNewline = text.length > 0 && !text.endsWith('\n');
  let queue = Promise.resolve();

  async function write(entry) {
    await handle.appendFile(`${needsNewline ? '\n' : ''}${JSON.stringify(entry)}\n`);
    await handle.datasync();
    needsNewline = false;
    return entry;
  }

  /** Runs fn(append) after every earlier write; appends made through `append` are durable when it resolves. */
  function transaction(fn) {
    const run = queue.then(() => fn(write));
    queue = run.catch(() => {});
    return run;
  }

  return {
    file,
    skipped,
    append: (entry) => transaction((append) => append(entry)),
    transaction,
    close: () => transaction(() => handle.close()),
  };
}
