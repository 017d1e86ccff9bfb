// The grant stores the sender's tests run against, each { name, open() } resolving a fresh, empty GrantStore whose
// close() also frees what it used: the package's file store (a new file in a temporary directory), the package's
// PostgreSQL store (a new table in a throwaway cluster, started on first use: tests/server/postgres.mjs) and the
// in-memory test helper. closeStores() stops the cluster and removes the files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate, openFileStore, pgStore } from '../../pkg/node.js';
import { memoryGrantStoreForTests } from './memory-store.mjs';
import { startPostgres } from './postgres.mjs';

let cluster = null;
const dirs = [];
let tables = 0;

/** The throwaway PostgreSQL cluster, started once per test process. */
export async function postgres() {
  cluster ??= await startPostgres();
  return cluster;
}

/** A new PostgreSQL store on its own table and Pool; close() ends the Pool. `table` to share one. */
export async function openPgStore({ table = `grants_${process.pid}_${(tables += 1)}`, max = 4 } = {}) {
  const db = await postgres();
  const pool = new pg.Pool({ connectionString: db.url, max });
  await migrate(pool, { table });
  const store = pgStore({ client: pool, table });
  return Object.assign(Object.create(store), store, {
    table,
    async close() {
      await store.close();
      await pool.end();
    },
  });
}

export function storeFactories() {
  return [
    {
      name: 'file',
      async open() {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxsub-sender-'));
        dirs.push(dir);
        return openFileStore(path.join(dir, 'grants.jsonl'));
      },
    },
    { name: 'PostgreSQL', open: () => openPgStore() },
    { name: 'in-memory (test helper)', open: async () => memoryGrantStoreForTests() },
  ];
}

export async function closeStores() {
  await cluster?.stop();
  cluster = null;
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
