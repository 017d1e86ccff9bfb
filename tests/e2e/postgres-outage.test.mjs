// The demo with its grants in PostgreSQL (DATABASE_URL), in Chromium: consents while the database is up, then while
// it is stopped (the grant endpoint answers 503, the pages keep the grants), then after it is back (the next page
// load delivers what was kept). Every Allow ends stored once, none lost. Needs the built package and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startPostgres } from '../server/postgres.mjs';
import { decide, e2eSuite, openSubscribePage, subscribe, waitForResult } from './harness.mjs';

const suite = e2eSuite({ before, after });
let db;

describe('grants on PostgreSQL through an outage', () => {
  before(async () => {
    db = await startPostgres();
  });
  after(() => db?.stop());

  test('consents before, during and after the database is down: every one stored, once', async () => {
    // Short waits: the pages give up on a POST quickly and keep the grant.
    const env = { DATABASE_URL: db.url, DELIVERY_TIMEOUT_MS: '1000', DELIVERY_RETRY_DELAY_MS: '10' };
    await suite.scenario({ env, networkErrors: true }, async ({ page, base, sink }) => {
      const consent = async (scene) => {
        await openSubscribePage(page, base);
        await subscribe(page, { scene });
        const reserved = new URL(page.url()).searchParams.get('reserved');
        await decide(page, 'confirm');
        return { reserved, result: await waitForResult(page) };
      };
      const up = [await consent(1), await consent(2)];
      assert.deepEqual(
        up.map((c) => c.result.delivered),
        ['true', 'true'],
      );

      await db.kill();
      const down = [await consent(3), await consent(4), await consent(5)];
      for (const { result } of down) {
        assert.equal(result.state, 'granted');
        assert.equal(result.delivered, 'false', 'the grant endpoint answered 503: kept, not delivered');
      }

      await db.restart();
      // The next page load posts what the browser kept.
      await openSubscribePage(page, base);
      const wanted = [...up, ...down].map((c) => c.reserved);
      const deadline = Date.now() + 30_000;
      let stored = await sink.grants();
      while (!wanted.every((r) => stored.some((g) => g.reserved === r)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        stored = await sink.grants();
      }
      assert.deepEqual(
        wanted.filter((r) => !stored.some((g) => g.reserved === r)),
        [],
        'no grant lost',
      );
      assert.equal(new Set(stored.map((g) => g.reserved)).size, stored.length, 'none stored twice');
      assert.ok((await sink.stats()).posts > wanted.length, 'the outage was met: some grants were posted again');
    });
  });
});
