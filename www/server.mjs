// The wx-subscribemsg demo server: the demo pages (www/), the built package (pkg/ at /pkg/), a local
// WeChat consent simulator (/mp/subscribemsg), a grant sink (/api/grants), the send endpoint
// (/api/send, with the package's Node entry), a simulator of WeChat's send API (/wxapi/…) and a
// simulated WeChat inbox (/inbox). node:http only.
//
//   npm start                      # builds pkg/, then serves http://127.0.0.1:8080/
//   PORT=0 node www/server.mjs     # any free port; the URL is printed on the first line
//
// Importing this module has no side effects; startServer(options) starts a server in-process.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  SEND_API_PATH,
  SIMULATOR_FAULTS_PATH,
  SIMULATOR_STATE_PATH,
  STABLE_TOKEN_PATH,
  WXAPI_MOUNT,
  createApiSimulator,
} from './lib/api-simulator.mjs';
import { ConfigError, ROOT_DIR, WWW_DIR, describeConfig, loadConfig } from './lib/config.mjs';
import { createFaultSwitch } from './lib/faults.mjs';
import { openGrantStore } from './lib/grant-store.mjs';
import { sendError, sendHtml, sendJson } from './lib/http.mjs';
import { FOLLOW_PATH, INBOX_PATH, createInbox } from './lib/inbox.mjs';
import { ANY_METHOD, createRouter } from './lib/router.mjs';
import { SEND_PATH, SENDS_PATH, createSender, openSendLog } from './lib/send.mjs';
import { FAULTS_PATH, GRANTS_PATH, LOGIN_PATH, createSink } from './lib/sink.mjs';
import { SIMULATOR_PATH, createSimulator } from './lib/simulator.mjs';
import { createStaticHandler, isPublicWwwFile } from './lib/static.mjs';
import { openWeChatState } from './lib/wechat-state.mjs';

/**
 * Starts the demo server. Options:
 * - env: where the configuration is read from (default process.env; see lib/config.mjs)
 * - log: a function receiving each line to print (default console.log; pass () => {} for silence)
 * - pkgDir: the built package served at /pkg/ (default <repo>/pkg)
 * Resolves { url, port, config, server, store, sends, wechat, faults, apiBase, close() }.
 */
export async function startServer({ env = process.env, log = console.log, pkgDir = path.join(ROOT_DIR, 'pkg') } = {}) {
  const config = loadConfig(env);
  const pkg = await loadNodeEntry(pkgDir, log);
  const store = await openGrantStore(config, pkg);
  const sends = await openSendLog(config.dataDir);
  const wechat = await openWeChatState(config.dataDir);
  const faults = createFaultSwitch(config.faults);
  // The send API: WX_API_BASE, or this server's own simulator once its address is known.
  let apiBase = config.wxApiBase || null;

  const publicConfig = () => ({
    appid: config.appid,
    templateIds: config.templateIds,
    businessDomain: config.businessDomain,
    // Relative when it is the local simulator, so the pages use it on whatever origin serves them.
    authorizeUrl: config.authorizeUrl || SIMULATOR_PATH,
    simulator: !config.authorizeUrl,
    grantEndpoint: GRANTS_PATH,
    // The delivery options the pages pass (DELIVERY_TIMEOUT_MS, DELIVERY_RETRY_DELAY_MS).
    delivery: config.delivery,
    faultsEndpoint: FAULTS_PATH,
    pkgBuilt: fs.existsSync(path.join(pkgDir, 'index.js')),
    // Never the access token: it stays on the server.
    sendEndpoint: SEND_PATH,
    sendsEndpoint: SENDS_PATH,
    sendApi: config.wxApiBase ? 'remote' : 'simulator',
    inboxUrl: INBOX_PATH,
  });

  const simulator = createSimulator(config, { state: wechat, log });
  const sink = createSink(config, { store, faults, pkg, log });
  const sender = createSender({
    grants: store,
    sends,
    pkg,
    apiBase: () => apiBase,
    accessToken: config.wxAccessToken,
    appid: config.appid,
    appSecret: config.simAppSecret,
    log,
  });
  const wxapi = createApiSimulator(config, { state: wechat, log });
  const inbox = createInbox(config, { state: wechat, realApi: Boolean(config.wxApiBase), log });

  // Every route of the server; a method a route does not list gets 405 with Allow.
  const route = createRouter({
    '/config.json': { GET: (req, res) => sendJson(res, 200, publicConfig()) },
    [SIMULATOR_PATH]: { GET: simulator.show, POST: simulator.decide },
    [GRANTS_PATH]: { GET: sink.listGrants, POST: sink.postGrant },
    [FAULTS_PATH]: { GET: sink.showFaults, PUT: sink.setFaults, POST: sink.setFaults, DELETE: sink.clearFaults },
    [LOGIN_PATH]: { GET: sink.showLogin },
    [SEND_PATH]: { POST: sender.postSend },
    [SENDS_PATH]: { GET: sender.listSends },
    [WXAPI_MOUNT + SEND_API_PATH]: { [ANY_METHOD]: wxapi.send },
    [WXAPI_MOUNT + STABLE_TOKEN_PATH]: { [ANY_METHOD]: wxapi.stableToken },
    [SIMULATOR_STATE_PATH]: { GET: wxapi.showState },
    [SIMULATOR_FAULTS_PATH]: { POST: wxapi.setFaults },
    [INBOX_PATH]: { GET: inbox.show },
    [FOLLOW_PATH]: { POST: inbox.follow },
  });
  // Then files, for GET and HEAD: the first that has the path serves it.
  const files = [
    // The business-domain verification file WeChat asks for (MP_verify_*.txt), kept in DATA_DIR.
    createStaticHandler({
      root: config.dataDir,
      mount: '/',
      allow: (rel) => /^MP_verify_[A-Za-z0-9]+\.txt$/.test(rel),
    }),
    createStaticHandler({ root: pkgDir, mount: '/pkg/' }),
    createStaticHandler({ root: WWW_DIR, mount: '/', allow: isPublicWwwFile }),
  ];

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (await route(req, res, url)) return;
      for (const serve of files) {
        if (await serve(req, res, url)) return;
      }
      if (url.pathname.startsWith('/api/')) sendError(res, 404, 'not_found', `no ${url.pathname}`);
      else if (url.pathname.startsWith('/pkg/'))
        sendHtml(
          res,
          404,
          notFoundPage('The package is not built (or has no such file): run <code>npm run build</code>.'),
        );
      else sendHtml(res, 404, notFoundPage('There is no such page.'));
    } catch (err) {
      log(`error: ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) sendError(res, 500, 'internal', 'the demo server failed; see its console');
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 2000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err) => {
    await Promise.all([store?.close(), sends.close(), wechat.close()]);
    throw err;
  });

  const { port } = server.address();
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}/`;
  apiBase ??= `${url}wxapi`;
  log(describeConfig(config, { url, authorizeUrl: `${url}${SIMULATOR_PATH.slice(1)}`, wxApiBase: apiBase }).join('\n'));
  if (shownHost !== config.businessDomain) {
    log(
      `note: open the pages on the business domain (${config.businessDomain}), e.g. through your tunnel: redirect_url must be on it`,
    );
  }
  if (!publicConfig().pkgBuilt)
    log(`warning: ${path.join(pkgDir, 'index.js')} is missing: run \`npm run build\` (npm start does it)`);
  for (const opened of [sends, wechat]) {
    if (opened.skipped) log(`warning: skipped ${opened.skipped} unreadable line(s) in ${opened.file}`);
  }
  if (config.wxApiBase && !config.authorizeUrl) {
    log(
      'note: WX_API_BASE is the real API but consent runs in the local simulator: its openids are not real, so WeChat will answer 40003',
    );
  }

  let closing = null;
  const close = () => {
    closing ??= new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections?.();
      // A POST the fault switch holds (`hang`) would keep the server open until the client gives up.
      server.closeAllConnections?.();
    }).then(() => Promise.all([store?.close(), sends.close(), wechat.close()]));
    return closing;
  };
  return { url, port, config, server, store, sends, wechat, faults, apiBase, close };
}

/** The package's Node entry (buildSendRequest, explainErrcode) for /api/send, or null when not built. */
async function loadNodeEntry(pkgDir, log) {
  const file = path.join(pkgDir, 'node.js');
  if (!fs.existsSync(file)) return null;
  try {
    const pkg = await import(pathToFileURL(file).href);
    if (typeof pkg.buildSendRequest === 'function' && typeof pkg.explainErrcode === 'function') return pkg;
    log(
      `warning: ${file} has no buildSendRequest/explainErrcode: rebuild the package (npm run build); /api/send is off`,
    );
  } catch (err) {
    log(`warning: could not load ${file} (${err.message}); /api/send is off`);
  }
  return null;
}

function notFoundPage(message) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Not found</title><link rel="stylesheet" href="/app.css"></head>
<body><main class="page"><section class="card"><h1>Not found</h1><p>${message}</p><p><a href="/">Back to the demo</a></p></section></main></body></html>
`;
}

async function main() {
  let running;
  try {
    running = await startServer();
  } catch (err) {
    if (err instanceof ConfigError) console.error(`wx-subscribemsg demo: ${err.message}`);
    else if (err.code === 'EADDRINUSE')
      console.error(
        `wx-subscribemsg demo: port ${err.port} is in use; set PORT to another port (PORT=0 picks a free one)`,
      );
    else console.error(err);
    process.exit(1);
  }
  const stop = () => running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function invokedAsMain() {
  try {
    return (
      Boolean(process.argv[1]) && fs.realpathSync(path.resolve(process.argv[1])) === fileURLToPath(import.meta.url)
    );
  } catch {
    return false;
  }
}
if (invokedAsMain()) main();
