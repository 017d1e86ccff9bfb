// @ts-check
// The embedded grant store: one local file, an append-only log of JSON lines, for a site on one machine and one
// process. Every change of a grant appends the grant's whole new record and fsyncs before the promise resolves, so
// a 201 means the grant survives a crash; on open the log is replayed, the last record of each grant winning, and a
// last line torn by a crash mid-write (never acknowledged) is cut off. Changes are serialised inside the process;
// a lock file `<file>.lock` holding the owner's pid keeps a second process out (`store_locked`), since two
// processes appending and replaying apart would each send grants the other claimed.
import { randomUUID } from 'node:crypto';
import { promises as fs, constants } from 'node:fs';
import { dirname } from 'node:path';
import {
  claimOptions,
  finishArguments,
  grantToInsert,
  invalidOption,
  listFilter,
  locked,
  newerArguments,
  reservedKey,
  unavailable,
} from './store-common.js';

/** @typedef {import('./file-store.js').StoredGrant} StoredGrant */
/** @typedef {import('./file-store.js').GrantStore} GrantStore */
/** @typedef {StoredGrant & { lease: string | null }} Row */

/** @param {unknown} error */
const errno = (error) => /** @type {NodeJS.ErrnoException} */ (error)?.code;

/**
 * True when a process with this pid runs (EPERM: it runs as another user).
 * @param {number} pid
 */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errno(error) === 'EPERM';
  }
}

/** The lock files this process holds: a second open of one in the same process is refused too. */
const held = new Set();

/**
 * Takes `<file>.lock`: created exclusively (O_EXCL) with our pid. A lock whose process is dead (a crash) is taken
 * over, and so is one naming our own pid that this process does not hold: a container restarted after a crash
 * gives its server the same pid (often 1) again. One held by another live process, or by this one, is refused.
 * @param {string} lockFile
 * @param {string} file
 */
async function takeLock(lockFile, file) {
  if (held.has(lockFile)) throw locked(file, process.pid);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await fs.open(lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      held.add(lockFile);
      return;
    } catch (error) {
      if (errno(error) !== 'EEXIST') throw unavailable(`cannot create ${lockFile}`, error);
    }
    const text = await fs.readFile(lockFile, 'utf8').catch(() => '');
    const pid = Number.parseInt(text, 10);
    // A lock still being written (empty) belongs to a process starting right now.
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw locked(file, pid);
    if (!text) throw locked(file, 0);
    // Stale: its process died without closing. Two processes taking it over at the same instant would both
    // unlink; O_EXCL then lets only one create it.
    await fs.unlink(lockFile).catch(() => {});
  }
  throw locked(file, 0);
}

/**
 * Opens (creating) the grant log at `path` and takes its lock.
 * @param {string} path
 * @returns {Promise<GrantStore>}
 */
export async function openFileStore(path) {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) throw invalidOption('path');
  const lockFile = `${path}.lock`;
  await fs.mkdir(dirname(path), { recursive: true }).catch((error) => {
    throw unavailable(`cannot create the directory of ${path}`, error);
  });
  await takeLock(lockFile, path);
  try {
    return await openLog(path, lockFile);
  } catch (error) {
    held.delete(lockFile);
    await fs.unlink(lockFile).catch(() => {});
    throw error;
  }
}

/**
 * @param {string} path
 * @param {string} lockFile
 * @returns {Promise<GrantStore>}
 */
async function openLog(path, lockFile) {
  /** @type {Map<string, Row>} */
  const rows = new Map();
  let sequence = 0;
  let text;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw unavailable(`cannot read ${path}`, error);
    text = '';
  }
  // Every complete line is a record; what follows the last newline was torn by a crash before its fsync.
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    /** @type {Row} */
    let row;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw unavailable(`${path} line ${i + 1} is not JSON: the file was changed by hand`, error);
    }
    rows.set(row.reserved, row);
    sequence = Math.max(sequence, row.sequence);
  });
  if (lines.length > COMPACT_AFTER && lines.length > 2 * rows.size) {
    text = await compact(path, rows);
  }
  return openForAppending(path, lockFile, text, text.lastIndexOf('\n') + 1, rows, sequence);
}

/** A log with more lines than this, and more than two per grant, is rewritten with one line per grant on open. */
const COMPACT_AFTER = 1000;

/**
 * Rewrites the log with each grant's last record only: written to a temporary file, fsynced, renamed over the log
 * and the directory fsynced, so a crash leaves either the old log or the new one, never a mix.
 * @param {string} path
 * @param {Map<string, Row>} rows
 * @returns {Promise<string>} the new log's text
 */
async function compact(path, rows) {
  const text = [...rows.values()]
    .sort((a, b) => a.sequence - b.sequence)
    .map((row) => `${JSON.stringify(row)}\n`)
    .join('');
  const temporary = `${path}.compacting`;
  try {
    const handle = await fs.open(temporary, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, path);
    const dir = await fs.open(dirname(path), 'r');
    await dir.sync().finally(() => dir.close());
  } catch (error) {
    throw unavailable(`cannot compact ${path}`, error);
  }
  return text;
}

/**
 * @param {string} path
 * @param {string} lockFile
 * @param {string} text the log as read
 * @param {number} end where its last complete line ends
 * @param {Map<string, Row>} rows
 * @param {number} sequence
 * @returns {Promise<GrantStore>}
 */
async function openForAppending(path, lockFile, text, end, rows, sequence) {
  let handle;
  try {
    handle = await fs.open(path, 'a');
    const size = Buffer.byteLength(text.slice(0, end));
    if (size !== Buffer.byteLength(text)) {
      await handle.truncate(size);
      await handle.sync();
    }
    if (!text) {
      // A new file: its directory entry must survive a crash too.
      await handle.sync();
      const dir = await fs.open(dirname(path), 'r');
      await dir.sync().finally(() => dir.close());
    }
    return fileStore(path, lockFile, handle, rows, sequence, size);
  } catch (error) {
    await handle?.close().catch(() => {});
    throw unavailable(`cannot open ${path}`, error);
  }
}

/**
 * The store over an open log.
 * @param {string} path
 * @param {string} lockFile
 * @param {import('node:fs/promises').FileHandle} handle
 * @param {Map<string, Row>} rows
 * @param {number} sequence the highest sequence so far
 * @param {number} size bytes of the log known good
 * @returns {GrantStore}
 */
function fileStore(path, lockFile, handle, rows, sequence, size) {
  let queue = Promise.resolve();
  /** @type {string | null} */
  let broken = null;
  let closed = false;

  /**
   * Runs `change` after every earlier one; it appends through `write`, which returns once the records are on disk.
   * @template T
   * @param {(write: (changed: Row[]) => Promise<void>) => Promise<T> | T} change
   * @returns {Promise<T>}
   */
  function serial(change) {
    // Refused at the call, not when its turn comes: changes queued before close() still run.
    if (closed) return Promise.reject(unavailable(`${path} is closed`));
    const run = queue.then(() => {
      if (broken) throw unavailable(broken);
      return change(write);
    });
    queue = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /**
   * Appends the records and fsyncs; only then are they applied in memory. A failed write is cut off again, so
   * the log never carries a half record in its middle; if even that fails, the store refuses until reopened.
   * @param {Row[]} changed
   */
  async function write(changed) {
    if (!changed.length) return;
    const bytes = Buffer.from(changed.map((row) => `${JSON.stringify(row)}\n`).join(''));
    try {
      await handle.write(bytes);
      await handle.sync();
    } catch (error) {
      await handle.truncate(size).catch(() => {
        broken = `${path} could not be written nor cut back after a failed write: reopen the store`;
      });
      throw unavailable(`cannot write ${path}`, error);
    }
    size += bytes.length;
    for (const row of changed) rows.set(row.reserved, row);
  }

  /**
   * The grant as callers see it (no lease id), a copy.
   * @param {Row} row
   * @returns {StoredGrant}
   */
  const view = ({ lease, ...grant }) => grant;

  /** @param {Row} row @param {number} now */
  const claimable = (row, now) =>
    (row.state === 'stored' && row.dueAt <= now) ||
    (row.state === 'sending' && row.leaseUntil !== null && row.leaseUntil <= now);

  /** @param {() => Promise<any>} read */
  const reading = async (read) => {
    if (closed) throw unavailable(`${path} is closed`);
    return read();
  };

  return {
    insert(grant) {
      let checked;
      try {
        checked = grantToInsert(grant);
      } catch (error) {
        return Promise.reject(error);
      }
      return serial(async (append) => {
        const known = rows.get(checked.reserved);
        if (known) return { created: false, grant: view(known) };
        const now = Date.now();
        /** @type {Row} */
        const row = {
          ...checked,
          state: 'stored',
          receivedAt: now,
          sequence: sequence + 1,
          attempts: 0,
          dueAt: now,
          leaseUntil: null,
          errcode: null,
          detail: null,
          updatedAt: now,
          lease: null,
        };
        await append([row]);
        sequence += 1;
        return { created: true, grant: view(row) };
      });
    },

    get(reserved) {
      return reading(async () => {
        const row = rows.get(reservedKey(reserved));
        return row ? view(row) : null;
      });
    },

    list(filter) {
      return reading(async () => {
        const { state, openid } = listFilter(filter);
        return [...rows.values()]
          .filter(
            (row) => (state === undefined || row.state === state) && (openid === undefined || row.openid === openid),
          )
          .sort((a, b) => a.sequence - b.sequence)
          .map(view);
      });
    },

    claim(options) {
      let wanted;
      try {
        wanted = claimOptions(options);
      } catch (error) {
        return Promise.reject(error);
      }
      return serial(async (append) => {
        const now = Date.now();
        const candidates =
          wanted.reserved !== undefined
            ? [rows.get(wanted.reserved)].filter((row) => row !== undefined)
            : [...rows.values()].sort((a, b) => a.sequence - b.sequence);
        /** @type {Row[]} */
        const claimed = [];
        for (const row of candidates) {
          if (claimed.length === wanted.limit) break;
          if (!claimable(row, now)) continue;
          claimed.push({
            ...row,
            state: 'sending',
            attempts: row.attempts + 1,
            leaseUntil: now + wanted.leaseMs,
            lease: randomUUID(),
            updatedAt: now,
          });
        }
        await append(claimed);
        return claimed.map((row) => ({ grant: view(row), lease: /** @type {string} */ (row.lease) }));
      });
    },

    finish(claim, outcome) {
      let args;
      try {
        args = finishArguments(claim, outcome);
      } catch (error) {
        return Promise.reject(error);
      }
      return serial(async (append) => {
        const row = rows.get(args.reserved);
        if (!row || row.state !== 'sending' || row.lease !== args.lease) return false;
        const now = Date.now();
        await append([
          {
            ...row,
            state: args.state,
            errcode: args.errcode,
            detail: args.detail,
            dueAt: args.state === 'stored' ? now + args.retryInMs : row.dueAt,
            leaseUntil: null,
            lease: null,
            updatedAt: now,
          },
        ]);
        return true;
      });
    },

    hasNewer(grant) {
      return reading(async () => {
        const g = newerArguments(grant);
        for (const row of rows.values()) {
          if (
            row.sequence > g.sequence &&
            row.openid === g.openid &&
            row.templateId === g.templateId &&
            row.scene === g.scene &&
            (row.state === 'stored' || row.state === 'sending')
          ) {
            return true;
          }
        }
        return false;
      });
    },

    unblock() {
      return serial(async (append) => {
        const now = Date.now();
        const blocked = [...rows.values()]
          .filter((row) => row.state === 'blocked')
          .sort((a, b) => a.sequence - b.sequence)
          .map((row) => ({ ...row, state: /** @type {const} */ ('stored'), dueAt: now, updatedAt: now }));
        await append(blocked);
        return blocked.length;
      });
    },

    close() {
      if (closed) return Promise.resolve();
      const done = queue.then(async () => {
        await handle.close().catch(() => {});
        // Only our own lock: never one a later owner took over.
        const text = await fs.readFile(lockFile, 'utf8').catch(() => '');
        if (Number.parseInt(text, 10) === process.pid) await fs.unlink(lockFile).catch(() => {});
        held.delete(lockFile);
      });
      closed = true;
      queue = done;
      return done;
    },
  };
}
