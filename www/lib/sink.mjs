// The grant sink: the demo's backend. POST /api/grants checks the grant the package delivers and
// stores it durably, deduplicated by Idempotency-Key; GET /api/grants lists what was stored.
// /api/faults is the fault switch that makes POSTs fail on purpose (see faults.mjs).
import { sendError, sendJson } from './http.mjs';
import { readJson } from './request-body.mjs';
import { isOpenId, isReserved, isScene } from './wechat-rules.mjs';

export const GRANTS_PATH = '/api/grants';
export const FAULTS_PATH = '/api/faults';
const FIELDS = ['appid', 'openid', 'template_id', 'scene', 'reserved'];

/**
 * Checks a POSTed grant. Returns { grant } or { problems: [...] } (each a human-readable string).
 */
export function validateGrant(body, key, { appid, templateIds }) {
  const problems = [];
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { problems: ['body must be a JSON object'] };
  if (body.appid !== appid) problems.push(`appid must be ${appid}`);
  if (!isOpenId(body.openid)) problems.push('openid must be a string of 1..64 letters, digits, "-" or "_"');
  if (typeof body.template_id !== 'string' || !templateIds.includes(body.template_id))
    problems.push('template_id must be one of the configured templates');
  if (!isScene(body.scene)) problems.push('scene must be a JSON integer from 0 to 10000');
  if (!isReserved(body.reserved)) problems.push('reserved must be 1..128 letters or digits');
  else if (body.reserved !== key) problems.push('reserved must equal the Idempotency-Key header');
  if (problems.length) return { problems };
  return { grant: Object.fromEntries(FIELDS.map((f) => [f, body[f]])) };
}

const sameGrant = (a, b) => FIELDS.every((f) => a[f] === b[f]);

/** Handlers of GRANTS_PATH (postGrant, listGrants) and FAULTS_PATH (showFaults, setFaults, clearFaults). */
export function createSink(config, { store, faults, log = () => {} }) {
  const stats = { posts: 0, created: 0, duplicates: 0, rejected: 0, faulted: 0 };

  const reject = (res, status, code, message, extra = {}) => {
    stats.rejected += 1;
    log(`sink: ${status} ${code}`);
    sendError(res, status, code, message, extra);
  };

  async function postGrant(req, res) {
    stats.posts += 1;
    const body = await readJson(req, res, 16 * 1024);
    if (body === undefined) {
      stats.rejected += 1;
      return;
    }

    const fault = faults.take();
    if (fault !== null) {
      stats.faulted += 1;
      log(`sink: fault ${fault} injected`);
      if (fault === 'reset') req.socket.destroy();
      else sendError(res, fault, 'fault_injected', `the fault switch answered ${fault}`);
      return;
    }

    const key = req.headers['idempotency-key'];
    if (!isReserved(key)) {
      return reject(
        res,
        400,
        'invalid_idempotency_key',
        'Idempotency-Key must be 1..128 letters or digits (the reserved value)',
      );
    }
    const checked = validateGrant(body, key, config);
    if (checked.problems)
      return reject(res, 400, 'invalid_grant', checked.problems.join('; '), { problems: checked.problems });

    const { created, grant } = await store.put(key, { ...checked.grant, received_at: new Date().toISOString() });
    if (created) {
      stats.created += 1;
      log(`sink: 201 stored grant scene=${grant.scene} template=${grant.template_id.slice(0, 6)}…`);
      sendJson(res, 201, { status: 'created', grant });
    } else if (sameGrant(grant, checked.grant)) {
      stats.duplicates += 1;
      log(`sink: 200 duplicate of scene=${grant.scene}, not stored again`);
      sendJson(res, 200, { status: 'duplicate', grant });
    } else {
      reject(res, 409, 'idempotency_conflict', 'this Idempotency-Key was already used for a different grant');
    }
  }

  function listGrants(req, res, url) {
    const openid = url.searchParams.get('openid');
    const grants = store.list().filter((g) => !openid || g.openid === openid);
    sendJson(res, 200, { grants, stats: { ...stats }, faults: faults.state() });
  }

  async function setFaults(req, res) {
    const body = await readJson(req, res, 4096);
    if (body === undefined) return;
    try {
      faults.set(body);
    } catch (err) {
      return sendError(res, 400, 'invalid_faults', err.message);
    }
    log(`sink: fault switch set to ${JSON.stringify(faults.state())}`);
    sendJson(res, 200, faults.state());
  }

  function clearFaults(req, res) {
    faults.clear();
    log('sink: fault switch cleared');
    sendJson(res, 200, faults.state());
  }

  return {
    postGrant,
    listGrants,
    showFaults: (req, res) => sendJson(res, 200, faults.state()),
    setFaults,
    clearFaults,
  };
}
