// A grant endpoint in its own process, for the concurrency tests: node:http on 127.0.0.1 (a free port), the package's
// createGrantListener over pgStore on DATABASE_URL and TABLE. Prints `listening <port>` once ready.
import http from 'node:http';
import pg from 'pg';

const { createGrantListener, pgStore } = await import(new URL('../../pkg/node.js', import.meta.url).href);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 8 });
const listener = createGrantListener({
  appid: process.env.APPID,
  templateIds: [process.env.TEMPLATE_ID],
  store: pgStore({ client: pool, table: process.env.TABLE }),
});
const server = http.createServer(listener);
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
