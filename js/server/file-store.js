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
      throw unavailable(`${path} line ${i + 1} is not JSON: changed by hand, or a disk error`, error);
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
 * The store over an open log. Changes are planned one after another against the grants as they will be once
 * every earlier change is on disk (`staged` over `rows`), and written in groups: all the changes planned while one
 * write and fsync run go to disk together in the next, so concurrent inserts share an fsync (group commit, as a
 * database does) instead of queueing one fsync each. Every change, and every answer that depends on one still
 * being written, resolves only after its group's fsync; if that fails, its group and every change planned on top
 * of it reject with store_unavailable, and the staged grants are dropped.
 * @param {string} path
 * @param {string} lockFile
 * @param {import('node:fs/promises').FileHandle} handle
 * @param {Map<string, Row>} rows the grants on disk
 * @param {number} sequence the highest sequence on disk
 * @param {number} size bytes of the log known good
 * @returns {GrantStore}
 */
function fileStore(path, lockFile, handle, rows, sequence, size) {
  /** Planned changes not yet on disk, by reserved. */
  const staged = new Map();
  let stagedSequence = sequence;
  /** @type {{ changed: Row[], waiters: { resolve: () => void, reject: (error: unknown) => void }[] } | null} */
  let next = null;
  /** @type {Promise<void> | null} */
  let flushing = null;
  /** @type {string | null} */
  let broken = null;
  let closed = false;
  /** @type {Promise<void> | null} */
  let closing = null;

  /** @param {string} reserved */
  const current = (reserved) => staged.get(reserved) ?? rows.get(reserved);
  /** Every grant as it will be, in sequence order. */
  const all = () => {
    const merged = new Map(rows);
    for (const [reserved, row] of staged) merged.set(reserved, row);
    return [...merged.values()].sort((a, b) => a.sequence - b.sequence);
  };

  /**
   * Plans a change now and resolves its result once it (and whatever it was planned on) is on disk.
   * @template T
   * @param {() => { changed: Row[], result: T }} plan
   * @returns {Promise<T>}
   */
  function change(plan) {
    if (closed) return Promise.reject(unavailable(`${path} is closed`));
    if (broken) return Promise.reject(unavailable(broken));
    let planned;
    try {
      planned = plan();
    } catch (error) {
      return Promise.reject(error);
    }
    const { changed, result } = planned;
    // Nothing pending: an answer with no change depends on nothing unwritten.
    if (!changed.length && !next && !flushing) return Promise.resolve(result);
    for (const row of changed) {
      staged.set(row.reserved, row);
      stagedSequence = Math.max(stagedSequence, row.sequence);
    }
    next ??= { changed: [], waiters: [] };
    const group = next;
    group.changed.push(...changed);
    return new Promise((resolve, reject) => {
      group.waiters.push({ resolve: () => resolve(result), reject });
      flushing ??= flush();
    });
  }

  /** Writes the groups one after another until none is waiting. */
  async function flush() {
    while (next) {
      const group = next;
      next = null;
      try {
        await write(group.changed);
      } catch (error) {
        // What was planned on top of this group cannot stand either.
        const later = /** @type {typeof group | null} */ (next);
        next = null;
        staged.clear();
        stagedSequence = sequence;
        for (const waiter of [...group.waiters, ...(later?.waiters ?? [])]) waiter.reject(error);
        continue;
      }
      for (const row of group.changed) {
        rows.set(row.reserved, row);
        sequence = Math.max(sequence, row.sequence);
        if (staged.get(row.reserved) === row) staged.delete(row.reserved);
      }
      for (const waiter of group.waiters) waiter.resolve();
    }
    flushing = null;
  }

  /**
   * Appends the records and fsyncs. A failed write is cut off again, so the log never carries a half record in its
   * middle; if even that fails, the store refuses until reopened.
   * @param {Row[]} changed
   */
  async function write(changed) {
    if (!changed.length) return;
    const bytes = Buffer.from(changed.map((row) => `${JSON.stringify(row)}\n`).join(''));
    try {
      // A short write is no error to write(): the next call writes the rest, or fails (a full disk).
      for (let offset = 0; offset < bytes.length;) {
        offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
      }
      await handle.sync();
    } catch (error) {
      await handle.truncate(size).catch(() => {
        broken = `${path} could not be written nor cut back after a failed write: reopen the store`;
      });
      throw unavailable(`cannot write ${path}`, error);
    }
    size += bytes.length;
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

  /**
   * A read of what is on disk (never of a change still being written).
   * @template T
   * @param {() => T} read
   * @returns {Promise<T>}
   */
  const reading = async (read) => {
    if (closed) throw unavailable(`${path} is closed`);
    return read();
  };

  return {
    insert(grant) {
      return change(
        /** @returns {{ changed: Row[], result: { created: boolean, grant: StoredGrant } }} */ () => {
          const checked = grantToInsert(grant);
          const known = current(checked.reserved);
          if (known) return { changed: [], result: { created: false, grant: view(known) } };
          const now = Date.now();
          /** @type {Row} */
          const row = {
            ...checked,
            state: 'stored',
            receivedAt: now,
            sequence: stagedSequence + 1,
            attempts: 0,
            dueAt: now,
            leaseUntil: null,
            errcode: null,
            detail: null,
            updatedAt: now,
            lease: null,
          };
          return { changed: [row], result: { created: true, grant: view(row) } };
        },
      );
    },

    get(reserved) {
      return reading(() => {
        const row = rows.get(reservedKey(reserved));
        return row ? view(row) : null;
      });
    },

    list(filter) {
      return reading(() => {
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
      return change(() => {
        const wanted = claimOptions(options);
        const now = Date.now();
        const candidates =
          wanted.reserved !== undefined ? [current(wanted.reserved)].filter((row) => row !== undefined) : all();
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
        return {
          changed: claimed,
          result: claimed.map((row) => ({ grant: view(row), lease: /** @type {string} */ (row.lease) })),
        };
      });
    },

    finish(claim, outcome) {
      return change(() => {
        const args = finishArguments(claim, outcome);
        const row = current(args.reserved);
        if (!row || row.state !== 'sending' || row.lease !== args.lease) return { changed: [], result: false };
        const now = Date.now();
        /** @type {Row} */
        const ended = {
          ...row,
          state: args.state,
          errcode: args.errcode,
          detail: args.detail,
          dueAt: args.state === 'stored' ? now + args.retryInMs : row.dueAt,
          leaseUntil: null,
          lease: null,
          updatedAt: now,
        };
        return { changed: [ended], result: true };
      });
    },

    hasNewer(grant) {
      return change(() => {
        const g = newerArguments(grant);
        const newer = all().some(
          (row) =>
            row.sequence > g.sequence &&
            row.openid === g.openid &&
            row.templateId === g.templateId &&
            row.scene === g.scene &&
            (row.state === 'stored' || row.state === 'sending'),
        );
        return { changed: [], result: newer };
      });
    },

    unblock() {
      return change(() => {
        const now = Date.now();
        const unblocked = all()
          .filter((row) => row.state === 'blocked')
          .map((row) => ({ ...row, state: /** @type {const} */ ('stored'), dueAt: now, updatedAt: now }));
        return { changed: unblocked, result: unblocked.length };
      });
    },

    close() {
      if (closing) return closing;
      closed = true;
      closing = (async () => {
        // Changes planned before close() still reach the disk.
        while (flushing) await flushing;
        await handle.close().catch(() => {});
        // Only our own lock: never one a later owner took over.
        const text = await fs.readFile(lockFile, 'utf8').catch(() => '');
        if (Number.parseInt(text, 10) === process.pid) await fs.unlink(lockFile).catch(() => {});
        held.delete(lockFile);
      })();
      return closing;
    },
  };
}
