// Types of js/server/pg-store.js.
import type { GrantStore } from './file-store.js';

/** What the store needs of a `pg` Pool (or Client): `query(text, values)`. A Pool is best: it reconnects. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  listenerCount?(event: 'error'): number;
}

export interface PgStoreOptions {
  /** A `pg` Pool (recommended) or Client, connected to the database the migration ran in. */
  client: PgQueryable;
  /** The table, default 'wx_grants'; lowercase letters, digits and '_', optionally 'schema.table'. */
  table?: string;
}

/** The grant store on PostgreSQL, for several processes or machines: run `migrate()` (or `migrationSql()`) once. */
export function pgStore(options: PgStoreOptions): GrantStore;

/** The migration: CREATE TABLE IF NOT EXISTS and its indexes, safe to run at every start. */
export function migrationSql(table?: string): string;

/** Runs the migration through `client`. */
export function migrate(client: PgQueryable, options?: { table?: string }): Promise<void>;
