// A throwaway PostgreSQL cluster for the server tests: Debian's binaries (scripts/setup.sh installs them), a fresh
// data directory in a temporary directory, a free port on 127.0.0.1 only, trust authentication for user `app`.
// The server refuses to run as root (CI runs as root), so as root every pg_ctl runs as the `postgres` user.
// Stopped by the test's `after` hook, and also when the process exits (a failed test, an uncaught error, a signal);
// a watchdog shell stops it even when the process is killed outright (SIGKILL), so no cluster outlives its test run.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The newest installed PostgreSQL's bin directory, e.g. /usr/lib/postgresql/15/bin. */
function binDir() {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error('PostgreSQL is not installed: run `bash scripts/setup.sh`');
  return join(base, versions[0], 'bin');
}

/** A port free on 127.0.0.1 right now (the kernel picks it; PostgreSQL binds it a moment later). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

const root = process.getuid?.() === 0;

let signalsHooked = false;
/** SIGINT/SIGTERM/SIGHUP would end the process without 'exit' handlers: turn them into an exit that runs them. */
function onSignalExit() {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const [signal, code] of /** @type {const} */ ([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ])) {
    process.once(signal, () => process.exit(code));
  }
}

/** Runs a PostgreSQL program, as `postgres` when we are root. */
function run(bin, program, args) {
  const [file, argv] = root
    ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]]
    : [join(bin, program), args];
  return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

/**
 * A detached shell that waits for this process to end and then stops the cluster and deletes its directory: the
 * only cleanup a SIGKILL leaves room for. A cluster already stopped makes its pg_ctl fail quietly.
 * @param {string} bin
 * @param {string} data
 * @param {string} dir
 */
function watch(bin, data, dir) {
  const pgCtl = `${root ? 'runuser -u postgres -- ' : ''}'${join(bin, 'pg_ctl')}' -D '${data}' -m immediate stop`;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${pgCtl} >/dev/null 2>&1; rm -rf '${dir}'`;
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
}

/**
 * Starts a new cluster and resolves once it accepts connections.
 * @returns {Promise<{ url: string, port: number, dir: string, stop(): Promise<void>, kill(): Promise<void>, restart(): Promise<void> }>}
 *   `url` is a connection string for `pg` (user app, database postgres); `kill()` stops it the way a crash would
 *   (immediate mode: no checkpoint, connections cut), `restart()` starts it again on the same port and data,
 *   `stop()` stops it and deletes everything.
 */
export async function startPostgres() {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'wxsub-pg-'));
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  run(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'app', '-E', 'UTF8', '--no-sync']);
  // The socket goes in our temporary directory (-k), never in /var/run/postgresql; TCP on loopback only.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`;
  const start = () => run(bin, 'pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const halt = (mode) => {
    try {
      run(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    } catch {
      // Already stopped.
    }
  };
  let running = false;
  let removed = false;
  const cleanUp = () => {
    if (removed) return;
    removed = true;
    if (running) halt('immediate');
    rmSync(dir, { recursive: true, force: true });
  };
  // Synchronous, so it runs on process exit too; a signal (the test runner cancelling) exits through it.
  process.on('exit', cleanUp);
  onSignalExit();
  start();
  running = true;
  watch(bin, data, dir);
  return {
    url: `postgres://app@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async stop() {
      if (removed) return;
      halt('fast');
      running = false;
      cleanUp();
      process.off('exit', cleanUp);
    },
    async kill() {
      halt('immediate');
      running = false;
    },
    async restart() {
      if (running) halt('fast');
      start();
      running = true;
    },
  };
}
