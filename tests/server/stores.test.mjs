// One conformance suite for both grant stores of the built package (pkg/node.js): the file store on a temporary
// file and the PostgreSQL store on a throwaway cluster (tests/server/postgres.mjs), each test on a fresh file or
// table. Run after `node scripts/build.mjs`.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startPostgres } from './postgres.mjs';

const pkg = new URL('../../pkg/node.js', import.meta.url).href;
const { openFileStore, pgStore, migrate, migrationSql } = await import(pkg);

const APPID = 'wxaba38c7f163da69b';
let n = 0;
/** A fresh valid grant; `over` replaces fields. */
const grant = (over = {}) => ({
  appid: APPID,
  openid: 'oUser_1',
  templateId: 'TPL_1',
  scene: 1000,
  reserved: `r${process.pid}x${(n += 1)}`,
  ...over,
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let db;
const pools = [];
const dirs = [];
before(async () => {
  db = await startPostgres();
});
after(async () => {
  await Promise.all(pools.map((pool) => pool.end().catch(() => {})));
  await db?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const newPool = () => {
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pools.push(pool);
  return pool;
};

/**
 * Each kind makes a fresh store and can reopen it (file: a new open of the same file after close; pg: a new Pool
 * on the same table) and open a second instance (pg only: another Pool).
 */
const kinds = {
  file: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxsub-store-'));
    dirs.push(dir);
    const file = join(dir, 'grants.jsonl');
    const store = await openFileStore(file);
    return { store, file, reopen: () => openFileStore(file) };
  },
  pg: async () => {
    const table = `grants_${(n += 1)}`;
    const pool = newPool();
    await migrate(pool, { table });
    return {
      store: pgStore({ client: pool, table }),
      table,
      reopen: async () => pgStore({ client: newPool(), table }),
    };
  },
};

for (const [kind, fresh] of Object.entries(kinds)) {
  describe(`${kind} store`, () => {
    test('insert is insert-if-absent by reserved, durable, in sequence order', async () => {
      const { store } = await fresh();
      const first = grant();
      const before = Date.now();
      const made = await store.insert(first);
      assert.equal(made.created, true);
      assert.deepEqual(
        { ...made.grant, receivedAt: 0, dueAt: 0, updatedAt: 0, sequence: 0 },
        {
          ...first,
          state: 'stored',
          receivedAt: 0,
          sequence: 0,
          attempts: 0,
          dueAt: 0,
          leaseUntil: null,
          errcode: null,
          detail: null,
          updatedAt: 0,
        },
      );
      assert.ok(Math.abs(made.grant.receivedAt - before) < 5000, 'receivedAt is now');
      assert.equal(made.grant.dueAt, made.grant.receivedAt);
      // The same key again, even with another grant: the stored one, unchanged.
      const again = await store.insert({ ...first, openid: 'oSomeoneElse' });
      assert.equal(again.created, false);
      assert.deepEqual(again.grant, made.grant);
      const second = (await store.insert(grant())).grant;
      assert.ok(second.sequence > made.grant.sequence);
      assert.deepEqual(await store.get(first.reserved), made.grant);
      assert.equal(await store.get('absent'), null);
      assert.deepEqual(
        (await store.list()).map((g) => g.reserved),
        [first.reserved, second.reserved],
      );
      assert.deepEqual(await store.list({ openid: 'oSomeoneElse' }), []);
      // A duplicate planned while the first is still being written answers only once it is on disk.
      const pair = grant();
      const [one, two] = await Promise.all([store.insert(pair), store.insert(pair)]);
      assert.deepEqual([one.created, two.created], [true, false]);
      assert.deepEqual(await store.get(pair.reserved), one.grant);
      // Many inserts at once (the file store writes them in groups, one fsync each): each resolved durable.
      const many = Array.from({ length: 50 }, () => grant());
      const made50 = await Promise.all(many.map((g) => store.insert(g)));
      assert.ok(made50.every((r) => r.created));
      const sequences = made50.map((r) => r.grant.sequence);
      assert.equal(new Set(sequences).size, 50);
      for (const g of many) assert.notEqual(await store.get(g.reserved), null);
      // Concurrent inserts of one key: one created.
      const racing = grant();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.insert(racing)));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.grant.sequence)).size, 1);
      await store.close();
    });

    test('bad arguments are typed errors, with the crate’s codes', async () => {
      const { store } = await fresh();
      const code = async (promise) => {
        try {
          await promise;
        } catch (error) {
          assert.equal(error.name, 'SubscribeError');
          return error.code;
        }
        return 'resolved';
      };
      assert.equal(await code(store.insert(grant({ openid: 'o 1' }))), 'invalid_openid');
      assert.equal(await code(store.insert(grant({ scene: 10001 }))), 'invalid_scene');
      assert.equal(await code(store.insert(grant({ reserved: 'a-b' }))), 'invalid_reserved');
      assert.equal(await code(store.insert(grant({ appid: 'wx1' }))), 'invalid_appid');
      assert.equal(await code(store.insert(null)), 'invalid_option');
      assert.equal(await code(store.claim({})), 'invalid_option');
      assert.equal(await code(store.claim({ leaseMs: 1.5 })), 'invalid_option');
      assert.equal(await code(store.claim({ leaseMs: 100, limit: 0 })), 'invalid_option');
      assert.equal(await code(store.finish({}, { state: 'sent' })), 'invalid_option');
      assert.equal(
        await code(store.finish({ grant: { reserved: 'r' }, lease: 'x' }, { state: 'stolen' })),
        'invalid_option',
      );
      assert.equal(await code(store.list({ state: 'lost' })), 'invalid_option');
      assert.equal(await code(store.get(5)), 'invalid_reserved');
      assert.equal(await code(store.hasNewer(null)), 'invalid_option');
      // Nothing was stored by the refused calls.
      assert.deepEqual(await store.list(), []);
      await store.close();
      assert.equal(await code(store.insert(grant())), 'store_unavailable');
    });

    test('claims lease the oldest due grants; finish ends only the current lease', async () => {
      const { store } = await fresh();
      const [a, b, c] = [grant(), grant(), grant()];
      for (const g of [a, b, c]) await store.insert(g);
      const claimed = await store.claim({ leaseMs: 60_000, limit: 2 });
      assert.deepEqual(
        claimed.map((x) => x.grant.reserved),
        [a.reserved, b.reserved],
      );
      for (const { grant: g, lease } of claimed) {
        assert.equal(g.state, 'sending');
        assert.equal(g.attempts, 1);
        assert.ok(Math.abs(g.leaseUntil - (Date.now() + 60_000)) < 5000);
        assert.equal(typeof lease, 'string');
      }
      assert.notEqual(claimed[0].lease, claimed[1].lease);
      assert.deepEqual((await store.get(a.reserved)).state, 'sending');
      const third = await store.claim({ leaseMs: 60_000, limit: 5 });
      assert.deepEqual(
        third.map((x) => x.grant.reserved),
        [c.reserved],
      );
      assert.deepEqual(await store.claim({ leaseMs: 60_000 }), [], 'nothing left to claim');

      assert.equal(await store.finish(claimed[0], { state: 'sent', errcode: 0, detail: 'sent' }), true);
      const sent = await store.get(a.reserved);
      assert.deepEqual([sent.state, sent.errcode, sent.detail, sent.leaseUntil], ['sent', 0, 'sent', null]);
      assert.equal(await store.finish(claimed[0], { state: 'sent' }), false, 'a claim ends once');
      assert.equal(await store.finish({ ...claimed[1], lease: claimed[0].lease }, { state: 'sent' }), false);
      assert.equal(await store.finish({ ...claimed[1], lease: 'not-a-lease' }, { state: 'sent' }), false);

      // Back to 'stored' with a delay: not claimable before it, claimable after.
      assert.equal(
        await store.finish(claimed[1], { state: 'stored', errcode: -1, detail: 'busy', retryInMs: 300 }),
        true,
      );
      assert.deepEqual(await store.claim({ leaseMs: 60_000, reserved: b.reserved }), []);
      await sleep(400);
      const retried = await store.claim({ leaseMs: 60_000, reserved: b.reserved });
      assert.equal(retried.length, 1);
      assert.equal(retried[0].grant.attempts, 2);
      assert.equal(retried[0].grant.errcode, -1, 'the last answer is kept while sending again');
      assert.equal(await store.finish(retried[0], { state: 'refused', errcode: 43101, detail: 'user_refused' }), true);
      assert.deepEqual(
        (await store.list({ state: 'refused' })).map((g) => g.reserved),
        [b.reserved],
      );
      await store.close();
    });

    test('an expired lease is claimed again, and the old claim can no longer finish', async () => {
      const { store } = await fresh();
      const g = grant();
      await store.insert(g);
      const [first] = await store.claim({ leaseMs: 150 });
      assert.deepEqual(await store.claim({ leaseMs: 150 }), [], 'not while the lease runs');
      await sleep(300);
      const [second] = await store.claim({ leaseMs: 60_000 });
      assert.equal(second.grant.reserved, g.reserved);
      assert.equal(second.grant.attempts, 2);
      assert.notEqual(second.lease, first.lease);
      assert.equal(await store.finish(first, { state: 'sent' }), false, 'the stale claim');
      assert.equal((await store.get(g.reserved)).state, 'sending');
      assert.equal(await store.finish(second, { state: 'unknown', detail: 'no_answer' }), true);
      assert.equal((await store.get(g.reserved)).state, 'unknown');
      // An expired lease not yet taken by anyone is still the current one.
      const other = grant();
      await store.insert(other);
      const [late] = await store.claim({ leaseMs: 50 });
      await sleep(150);
      assert.equal(await store.finish(late, { state: 'sent' }), true);
      await store.close();
    });

    test('hasNewer sees a newer stored or sending grant of the same subscription', async () => {
      const { store } = await fresh();
      const old = (await store.insert(grant({ openid: 'oA', scene: 1 }))).grant;
      await store.insert(grant({ openid: 'oA', scene: 2 }));
      await store.insert(grant({ openid: 'oB', scene: 1 }));
      await store.insert(grant({ openid: 'oA', scene: 1, templateId: 'TPL_2' }));
      assert.equal(await store.hasNewer(old), false, 'other scene, openid or template');
      const newer = (await store.insert(grant({ openid: 'oA', scene: 1 }))).grant;
      assert.equal(await store.hasNewer(old), true);
      assert.equal(await store.hasNewer(newer), false);
      const [claim] = await store.claim({ leaseMs: 60_000, reserved: newer.reserved });
      assert.equal(await store.hasNewer(old), true, 'sending counts');
      await store.finish(claim, { state: 'sent' });
      assert.equal(await store.hasNewer(old), false, 'a sent newer grant spent its own permit');
      await store.close();
    });

    test('unblock puts every blocked grant back', async () => {
      const { store } = await fresh();
      for (let i = 0; i < 3; i += 1) await store.insert(grant());
      const claims = await store.claim({ leaseMs: 60_000, limit: 3 });
      await store.finish(claims[0], { state: 'blocked', errcode: 40164, detail: 'ip_not_whitelisted' });
      await store.finish(claims[1], { state: 'blocked', errcode: 40037, detail: 'invalid_template_id' });
      await store.finish(claims[2], { state: 'sent', errcode: 0 });
      assert.equal(await store.unblock(), 2);
      assert.equal(await store.unblock(), 0);
      const again = await store.claim({ leaseMs: 60_000, limit: 5 });
      assert.deepEqual(
        again.map((c) => c.grant.reserved),
        claims.slice(0, 2).map((c) => c.grant.reserved),
      );
      assert.deepEqual(
        again.map((c) => c.grant.attempts),
        [2, 2],
      );
      await store.close();
    });

    test('every state survives a reopen', async () => {
      const { store, reopen } = await fresh();
      const grants = [grant(), grant(), grant()];
      for (const g of grants) await store.insert(g);
      const [claim] = await store.claim({ leaseMs: 60_000 });
      await store.finish(claim, { state: 'refused', errcode: 43101, detail: 'user_refused' });
      const [sending] = await store.claim({ leaseMs: 60_000 });
      const before = await store.list();
      await store.close();
      const reopened = await reopen();
      assert.deepEqual(await reopened.list(), before);
      // The lease taken before the reopen is still the one that can finish.
      assert.equal(await reopened.finish(sending, { state: 'sent' }), true);
      const next = (await reopened.insert(grant())).grant;
      assert.ok(next.sequence > before.at(-1).sequence, 'sequences go on increasing');
      await reopened.close();
    });

    test('two stores at once never claim the same grant', async () => {
      const { store, reopen } = await fresh();
      const total = 120;
      for (let i = 0; i < total; i += 1) await store.insert(grant());
      // file: two claimers in one process share the store (a second process is refused: see below);
      // pg: a second store on its own Pool.
      const other = kind === 'pg' ? await reopen() : store;
      const seen = [];
      const worker = async (s) => {
        for (;;) {
          const batch = await s.claim({ leaseMs: 60_000, limit: 3 });
          if (!batch.length) return;
          seen.push(...batch.map((c) => c.grant.reserved));
        }
      };
      await Promise.all([worker(store), worker(other), worker(store), worker(other)]);
      assert.equal(seen.length, total);
      assert.equal(new Set(seen).size, total, 'no grant claimed twice');
      await store.close();
      if (other !== store) await other.close();
    });
  });
}

describe('file store only', () => {
  const childOpen = (file) =>
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { openFileStore } = await import(${JSON.stringify(pkg)});
           try { const s = await openFileStore(${JSON.stringify(file)}); await s.insert({ appid: '${APPID}',
             openid: 'oChild', templateId: 'T', scene: 1, reserved: 'child${process.pid}' }); await s.close();
             console.log(JSON.stringify({ ok: true })); }
           catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(JSON.parse(out)));
    });

  test('a second process gets store_locked naming the file and the pid; after close it opens', async () => {
    const { store, file } = await kinds.file();
    const refused = await childOpen(file);
    assert.equal(refused.name, 'SubscribeError');
    assert.equal(refused.code, 'store_locked');
    assert.ok(refused.message.includes(file), refused.message);
    assert.ok(refused.message.includes(`process ${process.pid}`), refused.message);
    // The same process opening it twice is refused too.
    await assert.rejects(openFileStore(file), { name: 'SubscribeError', code: 'store_locked' });
    await store.close();
    assert.deepEqual(await childOpen(file), { ok: true });
    const reopened = await openFileStore(file);
    assert.equal((await reopened.list()).length, 1, "the child's grant");
    await reopened.close();
  });

  test('the lock of a process that died is taken over', async () => {
    const { store, file } = await kinds.file();
    await store.insert(grant());
    await store.close();
    const dead = Number(execFileSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' }));
    writeFileSync(`${file}.lock`, `${dead}\n`);
    const reopened = await openFileStore(file);
    assert.equal((await reopened.list()).length, 1);
    assert.equal(readFileSync(`${file}.lock`, 'utf8'), `${process.pid}\n`);
    await reopened.close();
    // A lock naming this very pid that this process does not hold: left by an earlier life of a container whose
    // server gets the same pid again.
    writeFileSync(`${file}.lock`, `${process.pid}\n`);
    const again = await openFileStore(file);
    await assert.rejects(openFileStore(file), { code: 'store_locked' }, 'but not twice in one process');
    await again.close();
  });

  test('a torn last line (a crash mid-write) is ignored and cut off', async () => {
    const { store, file } = await kinds.file();
    const kept = grant();
    await store.insert(kept);
    await store.close();
    appendFileSync(file, '{"appid":"wxaba38c7f163da69b","openid":"oTorn","templ');
    const reopened = await openFileStore(file);
    assert.deepEqual(
      (await reopened.list()).map((g) => g.reserved),
      [kept.reserved],
    );
    const next = grant();
    await reopened.insert(next);
    await reopened.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).reserved),
      [kept.reserved, next.reserved],
    );
  });

  test('a long log is compacted on open to one line per grant', async () => {
    const { store, file } = await kinds.file();
    const grants = [grant(), grant()];
    for (const g of grants) await store.insert(g);
    for (let i = 0; i < 600; i += 1) {
      const [claim] = await store.claim({ leaseMs: 60_000 });
      await store.finish(claim, { state: 'stored', errcode: -1, detail: 'busy' });
    }
    const before = await store.list();
    await store.close();
    assert.equal(readFileSync(file, 'utf8').split('\n').length - 1, 1202);
    const reopened = await openFileStore(file);
    assert.deepEqual(await reopened.list(), before);
    assert.equal(readFileSync(file, 'utf8').split('\n').length - 1, 2);
    await reopened.insert(grant());
    await reopened.close();
    const again = await openFileStore(file);
    assert.equal((await again.list()).length, 3);
    await again.close();
  });

  test('a full disk: store_unavailable, nothing half-written, and it works again once there is room', async (t) => {
    // A small tmpfs of its own, so the disk can be filled; needs root with mount rights, else skipped.
    const mountPoint = mkdtempSync(join(tmpdir(), 'wxsub-full-'));
    dirs.push(mountPoint);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a tmpfs here');
      return;
    }
    try {
      const file = join(mountPoint, 'grants.jsonl');
      const store = await openFileStore(file);
      const kept = [];
      // A few grants first, so the log has a page the next lines fill up to its last byte (a short write).
      for (let i = 0; i < 3; i += 1) {
        const g = grant();
        await store.insert(g);
        kept.push(g.reserved);
      }
      const filler = join(mountPoint, 'filler');
      // Fill all but a few hundred bytes.
      try {
        writeFileSync(filler, Buffer.alloc(64 * 1024));
      } catch {
        // ENOSPC: it took what there was.
      }
      let refused = null;
      for (let i = 0; i < 100 && !refused; i += 1) {
        const g = grant();
        try {
          await store.insert(g);
          kept.push(g.reserved);
        } catch (error) {
          refused = error;
        }
      }
      assert.equal(refused?.code, 'store_unavailable', 'the disk filled up');
      // A group of inserts at once fails together.
      const group = await Promise.allSettled([store.insert(grant()), store.insert(grant())]);
      assert.deepEqual(
        group.map((r) => r.status),
        ['rejected', 'rejected'],
      );
      assert.deepEqual(
        (await store.list()).map((g) => g.reserved),
        kept,
      );
      rmSync(filler);
      const after = grant();
      assert.equal((await store.insert(after)).created, true, 'works again once there is room');
      await store.close();
      const reopened = await openFileStore(file);
      assert.deepEqual(
        (await reopened.list()).map((g) => g.reserved),
        [...kept, after.reserved],
      );
      await reopened.close();
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  test('a bad path is typed; an unreadable one is store_unavailable', async () => {
    for (const bad of [undefined, null, 5, '', {}, 'a\0b']) {
      await assert.rejects(openFileStore(bad), { name: 'SubscribeError', code: 'invalid_option' });
    }
    const dir = mkdtempSync(join(tmpdir(), 'wxsub-store-'));
    dirs.push(dir);
    await assert.rejects(openFileStore(dir), { name: 'SubscribeError', code: 'store_unavailable' });
  });
});

describe('PostgreSQL store only', () => {
  test('the migration is idempotent and documented SQL', async () => {
    const pool = newPool();
    const sql = migrationSql();
    assert.match(sql, /CREATE TABLE IF NOT EXISTS wx_grants/);
    assert.match(sql, /reserved text PRIMARY KEY/);
    assert.match(sql, /sequence bigserial/);
    await migrate(pool);
    await migrate(pool);
    const store = pgStore({ client: pool });
    assert.equal((await store.insert(grant())).created, true);
    // The database refuses a state outside the six, whatever writes to it.
    await assert.rejects(pool.query(`UPDATE wx_grants SET state = 'lost'`), /check constraint/);
    assert.throws(() => migrationSql('Robert; DROP TABLE x'), { code: 'invalid_option' });
    assert.throws(() => pgStore({ client: pool, table: 'a b' }), { code: 'invalid_option' });
    assert.throws(() => pgStore({ client: {} }), { code: 'invalid_option' });
    assert.throws(() => pgStore(null), { code: 'invalid_option' });
  });

  test('a database that cannot be reached is store_unavailable, and works again once back', async () => {
    const table = `grants_${(n += 1)}`;
    const pool = newPool();
    await migrate(pool, { table });
    const store = pgStore({ client: pool, table });
    const kept = grant();
    await store.insert(kept);
    await db.kill();
    try {
      await assert.rejects(store.insert(grant()), (error) => {
        assert.equal(error.name, 'SubscribeError');
        assert.equal(error.code, 'store_unavailable');
        assert.doesNotMatch(error.message, /password/i);
        return true;
      });
      await assert.rejects(store.claim({ leaseMs: 1000 }), { code: 'store_unavailable' });
    } finally {
      await db.restart();
    }
    const after = grant();
    assert.equal((await store.insert(after)).created, true);
    assert.deepEqual(
      (await store.list()).map((g) => g.reserved),
      [kept.reserved, after.reserved],
    );
    const nowhere = new pg.Pool({ connectionString: `postgres://app@127.0.0.1:${db.port + 1}/postgres` });
    pools.push(nowhere);
    await assert.rejects(pgStore({ client: nowhere, table }).get('x'), { code: 'store_unavailable' });
  });

  test('lease times come from the database clock', async () => {
    const table = `grants_${(n += 1)}`;
    const pool = newPool();
    await migrate(pool, { table });
    const store = pgStore({ client: pool, table });
    await store.insert(grant());
    const [claim] = await store.claim({ leaseMs: 10_000 });
    const { rows } = await pool.query(
      `SELECT floor(extract(epoch FROM lease_until - now()) * 1000)::float8 AS left FROM ${table}`,
    );
    assert.ok(rows[0].left > 5000 && rows[0].left <= 10_000, `${rows[0].left} ms left by the database's clock`);
    assert.equal(claim.grant.leaseUntil - claim.grant.updatedAt, 10_000);
  });
});
