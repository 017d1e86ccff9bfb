// The grant sink: the demo's backend. POST /api/grants is the package's own grant endpoint (createGrantListener:
// the crate's rules, Idempotency-Key deduplication, a 2xx only once the grant is durable, 503 while the store cannot
// write) over the demo's grant store (grant-store.mjs), with the fault switch in front; GET /api/grants lists what
// was stored. /api/faults is the fault switch that makes POSTs fail on purpose (see faults.mjs); /login is the page
// its `login` fault redirects to.
import { sendError, sendHtml, sendJson } from './http.mjs';
import { readJson } from './request-body.mjs';

export const GRANTS_PATH = '/api/grants';
export const FAULTS_PATH = '/api/faults';

/** The login page a session-expired grant endpoint redirects to (the `login` fault). */
export const LOGIN_PATH = '/login';

/** A fault instead of the sink's answer: an HTTP status, a dropped connection, a redirect to the login page
 * (what an expired session does), or no answer at all until the client gives up. */
function injectFault(req, res, fault) {
  if (fault === 'reset') return req.socket.destroy();
  if (fault === 'login') {
    res.writeHead(302, { Location: LOGIN_PATH, 'Content-Length': '0' });
    return res.end();
  }
  if (fault === 'hang') {
    // Held until the client aborts (its timeout, or the tab closing); dropped after a minute at the latest.
    const timer = setTimeout(() => req.socket.destroy(), 60_000);
    return req.socket.once('close', () => clearTimeout(timer));
  }
  sendError(res, fault, 'fault_injected', `the fault switch answered ${fault}`);
}

/** A stored grant as GET /api/grants lists it (the demo's pages and tests read these names). */
const listed = (g) => ({
  idempotency_key: g.reserved,
  appid: g.appid,
  openid: g.openid,
  template_id: g.templateId,
  scene: g.scene,
  reserved: g.reserved,
  received_at: new Date(g.receivedAt).toISOString(),
  state: g.state,
});

/** Handlers of GRANTS_PATH (postGrant, listGrants), FAULTS_PATH (showFaults, setFaults, clearFaults) and
 * LOGIN_PATH (showLogin). pkg: the package's Node entry (null when not built: POSTs then get 503). */
export function createSink(config, { store, faults, pkg, log = () => {} }) {
  const stats = { posts: 0, created: 0, duplicates: 0, rejected: 0, faulted: 0 };
  const endpoint =
    pkg && store
      ? pkg.createGrantListener({
          appid: config.appid,
          templateIds: config.templateIds,
          store,
          // What failed behind a 503 or a 500, on the demo's console (the client gets the code only).
          onError: (error) => log(`sink: ${error.code ?? 'error'}: ${error.message}`),
        })
      : null;

  /** Counts and logs the endpoint's answer by its status. */
  function count(status) {
    if (status === 201) stats.created += 1;
    else if (status === 200) stats.duplicates += 1;
    else stats.rejected += 1;
    log(`sink: ${status}${status === 201 ? ' stored a grant' : status === 200 ? ' duplicate, not stored again' : ''}`);
  }

  /** The endpoint's answer written to `res`, counted; or, for the `lost` fault, the connection dropped instead. */
  function answerThrough(req, res, lost) {
    endpoint(req, {
      get headersSent() {
        return res.headersSent;
      },
      writeHead(status, headers) {
        count(status);
        if (!lost) res.writeHead(status, headers);
      },
      end(body) {
        // Stored (or not), but the answer never arrives: the package must post again, and the sink deduplicate.
        if (lost) {
          log('sink: fault lost injected after the endpoint answered');
          return req.socket.destroy();
        }
        res.end(body);
      },
    });
  }

  function postGrant(req, res) {
    stats.posts += 1;
    if (!endpoint) {
      stats.rejected += 1;
      return sendError(res, 503, 'not_built', 'the package is not built: run `npm run build`');
    }
    // A request the endpoint refuses for its form alone (not JSON) does not use up a fault.
    const json = /^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '');
    const fault = json ? faults.take() : null;
    if (fault !== null && fault !== 'lost') {
      stats.faulted += 1;
      log(`sink: fault ${fault} injected`);
      return injectFault(req, res, fault);
    }
    if (fault === 'lost') stats.faulted += 1;
    answerThrough(req, res, fault === 'lost');
  }

  async function listGrants(req, res, url) {
    const openid = url.searchParams.get('openid');
    const grants = store ? await store.list(openid ? { openid } : undefined) : [];
    sendJson(res, 200, { grants: grants.map(listed), stats: { ...stats }, faults: faults.state() });
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
    // What a browser following the `login` fault's redirect would get: a 200 that is not the grant's answer.
    showLogin: (req, res) =>
      sendHtml(res, 200, '<!doctype html><title>Sign in</title><p>Your session expired: sign in again.</p>'),
    setFaults,
    clearFaults,
  };
}
