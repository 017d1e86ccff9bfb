// @ts-check
// What both grant stores share: the errors they throw (made by the wasm core, so code and message come from the one
// table in src/error.rs), the checks of their arguments, and the grant states. Internal: not re-exported.
import { checkGrant, storeError } from '../node/wx_subscribemsg.js';

/** @typedef {import('./file-store.js').Grant} Grant */
/** @typedef {import('./file-store.js').GrantState} GrantState */

/** Every state a grant can be in. */
export const STATES = /** @type {const} */ (['stored', 'sending', 'sent', 'refused', 'blocked', 'unknown']);
/** The states `finish()` may end a claim in. */
const OUTCOMES = ['sent', 'refused', 'blocked', 'unknown', 'stored'];

/**
 * `store_unavailable`, with what failed (never a secret: a file path, a database error's code and message).
 * @param {string} what
 * @param {unknown} [cause]
 */
export function unavailable(what, cause) {
  const reason =
    cause instanceof Error ? `${what}: ${/** @type {any} */ (cause).code ?? cause.name} ${cause.message}` : what;
  const error = storeError('store_unavailable', reason);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * `store_locked`: the file and the process holding it.
 * @param {string} file
 * @param {number} pid
 */
export function locked(file, pid) {
  return storeError('store_locked', `${file} is held by process ${pid}`);
}

/**
 * `invalid_option` naming the argument.
 * @param {string} name
 */
export function invalidOption(name) {
  return storeError('invalid_option', name);
}

/**
 * The grant to insert, checked by the crate's parsers (typed errors: invalid_appid, invalid_openid, …) and copied
 * to a plain object of exactly the five fields.
 * @param {unknown} grant
 * @returns {Grant}
 */
export function grantToInsert(grant) {
  return checkGrant(/** @type {any} */ (grant));
}

/**
 * `reserved` for get(): a string (the crate checks its form only on insert; an unknown one is simply absent).
 * @param {unknown} reserved
 */
export function reservedKey(reserved) {
  if (typeof reserved !== 'string') throw storeError('invalid_reserved', '');
  return reserved;
}

/**
 * A non-negative whole number of milliseconds (or a count), at most `max`.
 * @param {unknown} value
 * @param {string} name
 * @param {number} min
 * @param {number} max
 */
function wholeNumber(value, name, min, max) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalidOption(name);
  return value;
}

/**
 * A plain object, or `undefined`/`null` when `optional`; anything else (an array, a function) is invalid_option.
 * @param {unknown} value
 * @param {string} name
 * @param {boolean} optional
 * @returns {Record<string, unknown>}
 */
function record(value, name, optional) {
  if ((value === undefined || value === null) && optional) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption(name);
  return /** @type {Record<string, unknown>} */ (value);
}

/**
 * Reads a field, turning a throwing getter or Proxy into invalid_option.
 * @param {Record<string, unknown>} object
 * @param {string} key
 * @param {string} name
 */
function field(object, key, name) {
  try {
    return object[key];
  } catch {
    throw invalidOption(name);
  }
}

/**
 * list()'s filter.
 * @param {unknown} filter
 * @returns {{ state?: GrantState, openid?: string }}
 */
export function listFilter(filter) {
  const f = record(filter, 'filter', true);
  const state = field(f, 'state', 'state');
  const openid = field(f, 'openid', 'openid');
  if (state !== undefined && !STATES.includes(/** @type {any} */ (state))) throw invalidOption('state');
  if (openid !== undefined && typeof openid !== 'string') throw invalidOption('openid');
  return { state: /** @type {GrantState | undefined} */ (state), openid };
}

/**
 * claim()'s options: leaseMs (1 ms to a day), limit (1 to 1000, default 1), reserved.
 * @param {unknown} options
 */
export function claimOptions(options) {
  const o = record(options, 'options', false);
  const leaseMs = wholeNumber(field(o, 'leaseMs', 'leaseMs'), 'leaseMs', 1, 86_400_000);
  const limitValue = field(o, 'limit', 'limit');
  const limit = limitValue === undefined ? 1 : wholeNumber(limitValue, 'limit', 1, 1000);
  const reservedValue = field(o, 'reserved', 'reserved');
  if (reservedValue !== undefined && typeof reservedValue !== 'string') throw invalidOption('reserved');
  return { leaseMs, limit, reserved: /** @type {string | undefined} */ (reservedValue) };
}

/**
 * finish()'s arguments: the claim's grant key and lease, and the outcome.
 * @param {unknown} claim
 * @param {unknown} outcome
 */
export function finishArguments(claim, outcome) {
  const c = record(claim, 'claim', false);
  const lease = field(c, 'lease', 'claim');
  const grant = record(field(c, 'grant', 'claim'), 'claim', false);
  const reserved = field(grant, 'reserved', 'claim');
  if (typeof lease !== 'string' || typeof reserved !== 'string') throw invalidOption('claim');
  const o = record(outcome, 'outcome', false);
  const state = field(o, 'state', 'state');
  if (!OUTCOMES.includes(/** @type {any} */ (state))) throw invalidOption('state');
  const errcode = field(o, 'errcode', 'errcode') ?? null;
  if (
    errcode !== null &&
    (typeof errcode !== 'number' || !Number.isInteger(errcode) || Math.abs(errcode) > 2 ** 31 - 1)
  ) {
    throw invalidOption('errcode');
  }
  const detail = field(o, 'detail', 'detail') ?? null;
  if (detail !== null && (typeof detail !== 'string' || detail.length > 200)) throw invalidOption('detail');
  const retry = field(o, 'retryInMs', 'retryInMs');
  const retryInMs = retry === undefined || retry === null ? 0 : wholeNumber(retry, 'retryInMs', 0, 366 * 86_400_000);
  return {
    reserved,
    lease,
    state: /** @type {'sent' | 'refused' | 'blocked' | 'unknown' | 'stored'} */ (state),
    errcode: /** @type {number | null} */ (errcode),
    detail: /** @type {string | null} */ (detail),
    retryInMs,
  };
}

/**
 * hasNewer()'s grant: its subscription and sequence.
 * @param {unknown} grant
 */
export function newerArguments(grant) {
  const g = record(grant, 'grant', false);
  const [openid, templateId, scene, sequence] = ['openid', 'templateId', 'scene', 'sequence'].map((k) =>
    field(g, k, 'grant'),
  );
  if (
    typeof openid !== 'string' ||
    typeof templateId !== 'string' ||
    typeof scene !== 'number' ||
    typeof sequence !== 'number'
  ) {
    throw invalidOption('grant');
  }
  return { openid, templateId, scene, sequence };
}
