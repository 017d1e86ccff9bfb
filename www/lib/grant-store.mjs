// The demo's grant store: the package's own. By default the file store, DATA_DIR/grant-store.jsonl (an fsync'd
// append-only log, one process per file); with DATABASE_URL, PostgreSQL through a `pg` Pool, the table created by
// the package's migration at start. Either way a 201 from the sink means the grant survives a crash.
import fs from 'node:fs';
import path from 'node:path';

export const GRANTS_FILE = 'grant-store.jsonl';

/**
 * Opens the store for `config` ({ dataDir, databaseUrl }) with the package's Node entry `pkg`; null when the package
 * is not built. Resolves a GrantStore with `file` (or `database`, its host and name only: never a password) and a
 * close() that also ends the Pool.
 */
export async function openGrantStore(config, pkg) {
  if (!pkg) return null;
  if (config.databaseUrl) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: config.databaseUrl });
    // An idle connection the database drops (a restart) must not kill the demo: the next query reconnects.
    pool.on('error', () => {});
    await pkg.migrate(pool);
    const store = pkg.pgStore({ client: pool });
    const url = new URL(config.databaseUrl);
    return {
      ...store,
      database: `${url.hostname}:${url.port || 5432}${url.pathname}`,
      close: async () => {
        await store.close();
        await pool.end();
      },
    };
  }
  await fs.promises.mkdir(config.dataDir, { recursive: true });
  const file = path.join(config.dataDir, GRANTS_FILE);
  return Object.assign(await pkg.openFileStore(file), { file });
}
