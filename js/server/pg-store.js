// @ts-check
// The grant store on PostgreSQL, for several processes or machines. The site passes its own `pg` Pool (the package
// never imports `pg`); every method is one statement, so each resolves only after its COMMIT. Insert-if-absent is
// INSERT … ON CONFLICT DO NOTHING then a read; claims lock due rows with FOR UPDATE SKIP LOCKED, so two claimers
// never take the same grant and never wait for each other; every time (receivedAt, dueAt, leases) is the database's
// now(), so machines whose clocks disagree still agree on when a lease ends.
import {
  claimOptions,
  finishArguments,
  grantToInsert,
  invalidOption,
  listFilter,
  newerArguments,
  reservedKey,
  unavailable,
} from './store-common.js';

/** @typedef {import('./file-store.js').StoredGrant} StoredGrant */
/** @typedef {import('./file-store.js').GrantStore} GrantStore */
/** @typedef {import('./pg-store.js').PgQueryable} PgQueryable */

const DEFAULT_TABLE = 'wx_grants';

/**
 * A table name safe to put in SQL: lowercase identifiers, optionally schema-qualified.
 * @param {unknown} table
 */
function tableName(table) {
  if (table === undefined || table === null) return DEFAULT_TABLE;
  if (typeof table !== 'string' || !/^(?:[a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/.test(table)) {
    throw invalidOption('table');
  }
  return table;
}

/**
 * The migration, safe to run at every start (IF NOT EXISTS throughout). One row per grant, keyed by `reserved`:
 * - `sequence` (bigserial): insertion order, for claims oldest first and for hasNewer();
 * - `state` with a CHECK of the six states; `lease` (uuid) and `lease_until` while 'sending';
 * - the claim index covers only claimable states, so sent grants cost claims nothing;
 * - the subscription index finds a newer grant for the same (openid, template_id, scene).
 * @param {string} [table] default 'wx_grants'
 */
export function migrationSql(table) {
  const t = tableName(table);
  const index = t.replace('.', '_');
  return `CREATE TABLE IF NOT EXISTS ${t} (
  reserved text PRIMARY KEY CHECK (reserved ~ '^[A-Za-z0-9]{1,128}$'),
  sequence bigserial NOT NULL UNIQUE,
  appid text NOT NULL,
  openid text NOT NULL,
  template_id text NOT NULL,
  scene integer NOT NULL CHECK (scene BETWEEN 0 AND 10000),
  state text NOT NULL DEFAULT 'stored'
    CHECK (state IN ('stored', 'sending', 'sent', 'refused', 'blocked', 'unknown')),
  received_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  due_at timestamptz NOT NULL DEFAULT now(),
  lease uuid,
  lease_until timestamptz,
  errcode integer,
  detail text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ${index}_claimable ON ${t} (sequence) WHERE state IN ('stored', 'sending');
CREATE INDEX IF NOT EXISTS ${index}_subscription ON ${t} (openid, template_id, scene, sequence);
`;
}

/**
 * Runs the migration through `client` (a `pg` Pool or Client).
 * @param {PgQueryable} client
 * @param {{ table?: string }} [options]
 */
export async function migrate(client, options) {
  const queryable = checkClient(client);
  const table = options === undefined || options === null ? undefined : tableOption(options);
  try {
    await queryable.query(migrationSql(table));
  } catch (error) {
    throw unavailable('the migration failed', error);
  }
}

/** @param {unknown} options */
function tableOption(options) {
  if (typeof options !== 'object' || options === null) throw invalidOption('options');
  try {
    return /** @type {any} */ (options).table;
  } catch {
    throw invalidOption('table');
  }
}

/**
 * @param {unknown} client
 * @returns {PgQueryable}
 */
function checkClient(client) {
  let query;
  try {
    query = /** @type {any} */ (client)?.query;
  } catch {
    throw invalidOption('client');
  }
  if (typeof client !== 'object' || client === null || typeof query !== 'function') throw invalidOption('client');
  return /** @type {PgQueryable} */ (client);
}

// Times leave the database as milliseconds since the epoch (float8, so `pg` gives numbers, not strings).
const ms = (/** @type {string} */ column) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;
const COLUMNS = `appid, openid, template_id AS "templateId", scene, reserved, state,
  ${ms('received_at')} AS "receivedAt", sequence::float8 AS sequence, attempts, ${ms('due_at')} AS "dueAt",
  ${ms('lease_until')} AS "leaseUntil", errcode, detail, ${ms('updated_at')} AS "updatedAt"`;

/**
 * The grant store over `client`.
 * @param {{ client: PgQueryable, table?: string }} options
 * @returns {GrantStore}
 */
export function pgStore(options) {
  if (typeof options !== 'object' || options === null) throw invalidOption('options');
  let clientValue;
  let tableValue;
  try {
    ({ client: clientValue, table: tableValue } = /** @type {any} */ (options));
  } catch {
    throw invalidOption('options');
  }
  const client = checkClient(clientValue);
  const t = tableName(tableValue);
  // An idle pooled connection the server drops (a restart) makes a Pool emit 'error', which kills a process with
  // no listener: the store's next query simply gets a new connection, so a Pool without a listener gets one here.
  if (typeof client.on === 'function' && typeof client.listenerCount === 'function' && !client.listenerCount('error')) {
    client.on('error', () => {});
  }
  let closed = false;

  /**
   * One statement; any failure of the database or the connection is store_unavailable.
   * @param {string} what
   * @param {string} text
   * @param {unknown[]} values
   */
  async function query(what, text, values) {
    if (closed) throw unavailable('the store is closed');
    try {
      return await client.query(text, values);
    } catch (error) {
      throw unavailable(`${what} in ${t}`, error);
    }
  }

  return {
    async insert(grant) {
      const g = grantToInsert(grant);
      const values = [g.reserved, g.appid, g.openid, g.templateId, g.scene];
      const inserted = await query(
        'insert',
        `INSERT INTO ${t} (reserved, appid, openid, template_id, scene) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (reserved) DO NOTHING RETURNING ${COLUMNS}`,
        values,
      );
      if (inserted.rows.length) return { created: true, grant: inserted.rows[0] };
      // Known: ON CONFLICT waited for a concurrent insert of the same key to commit, so this read sees it.
      const known = await query('read', `SELECT ${COLUMNS} FROM ${t} WHERE reserved = $1`, [g.reserved]);
      if (!known.rows.length) throw unavailable(`the grant ${g.reserved} vanished from ${t}`);
      return { created: false, grant: known.rows[0] };
    },

    async get(reserved) {
      const key = reservedKey(reserved);
      const result = await query('read', `SELECT ${COLUMNS} FROM ${t} WHERE reserved = $1`, [key]);
      return result.rows[0] ?? null;
    },

    async list(filter) {
      const { state, openid } = listFilter(filter);
      const result = await query(
        'list',
        `SELECT ${COLUMNS} FROM ${t}
         WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR openid = $2) ORDER BY sequence`,
        [state ?? null, openid ?? null],
      );
      return result.rows;
    },

    async claim(options) {
      const { leaseMs, limit, reserved } = claimOptions(options);
      const result = await query(
        'claim',
        `WITH due AS (
           SELECT reserved AS due_key FROM ${t}
           WHERE ((state = 'stored' AND due_at <= now()) OR (state = 'sending' AND lease_until <= now()))
             AND ($3::text IS NULL OR reserved = $3)
           ORDER BY sequence LIMIT $2
           FOR UPDATE SKIP LOCKED
         )
         UPDATE ${t} AS g SET state = 'sending', lease = gen_random_uuid(), attempts = g.attempts + 1,
           lease_until = now() + $1 * interval '1 millisecond', updated_at = now()
         FROM due WHERE g.reserved = due.due_key
         RETURNING ${COLUMNS}, lease::text AS lease`,
        [leaseMs, limit, reserved ?? null],
      );
      return result.rows.sort((a, b) => a.sequence - b.sequence).map(({ lease, ...grant }) => ({ grant, lease }));
    },

    async finish(claim, outcome) {
      const a = finishArguments(claim, outcome);
      // A lease id that is not a uuid was never handed out by this store.
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(a.lease)) return false;
      const result = await query(
        'finish',
        `UPDATE ${t} SET state = $3, errcode = $4, detail = $5, lease = NULL, lease_until = NULL, updated_at = now(),
           due_at = CASE WHEN $3 = 'stored' THEN now() + $6 * interval '1 millisecond' ELSE due_at END
         WHERE reserved = $1 AND lease = $2::uuid AND state = 'sending'`,
        [a.reserved, a.lease, a.state, a.errcode, a.detail, a.retryInMs],
      );
      return result.rowCount === 1;
    },

    async hasNewer(grant) {
      const g = newerArguments(grant);
      const result = await query(
        'read',
        `SELECT EXISTS (SELECT 1 FROM ${t} WHERE openid = $1 AND template_id = $2 AND scene = $3 AND sequence > $4
           AND state IN ('stored', 'sending')) AS newer`,
        [g.openid, g.templateId, g.scene, g.sequence],
      );
      return result.rows[0].newer === true;
    },

    async unblock() {
      const result = await query(
        'unblock',
        `UPDATE ${t} SET state = 'stored', due_at = now(), updated_at = now() WHERE state = 'blocked'`,
        [],
      );
      return result.rowCount ?? 0;
    },

    async close() {
      // The client is the site's: it ends its Pool itself.
      closed = true;
    },
  };
}
