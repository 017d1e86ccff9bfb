// Test helper: the demo's WeChat API simulator (www/lib/api-simulator.mjs: the send API and cgi-bin/stable_token)
// on its own HTTP server at 127.0.0.1 on a free port, with its state in a temporary directory. The fixed
// SIM_ACCESS_TOKEN is a random value no test uses, so only tokens from stable_token are accepted.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  SEND_API_PATH,
  SIMULATOR_FAULTS_PATH,
  SIMULATOR_STATE_PATH,
  STABLE_TOKEN_PATH,
  WXAPI_MOUNT,
  createApiSimulator,
} from '../../www/lib/api-simulator.mjs';
import { DEFAULTS } from '../../www/lib/config.mjs';
import { ANY_METHOD, createRouter } from '../../www/lib/router.mjs';
import { openWeChatState } from '../../www/lib/wechat-state.mjs';

export const APPID = DEFAULTS.APPID;
export const SECRET = 'TEST_APP_SECRET_0123456789';
export const TEMPLATE_ID = DEFAULTS.TEMPLATE_ID.split(',')[0];

/**
 * Starts the simulator. Resolves { apiBase, sim, state, permit(openid, scene, templateId?), messages(),
 * close() }: `sim` has faults({ send, token, rotateToken }), rotateToken() and stats.
 */
export async function startWxApiSimulator({ tokenLifetimeS } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxapi-sim-'));
  const state = await openWeChatState(dataDir);
  const config = {
    appid: APPID,
    templateIds: DEFAULTS.TEMPLATE_ID.split(','),
    simAccessToken: crypto.randomBytes(32).toString('hex'),
    simAppSecret: SECRET,
  };
  const sim = createApiSimulator(config, { state, tokenLifetimeS });
  const route = createRouter({
    [WXAPI_MOUNT + SEND_API_PATH]: { [ANY_METHOD]: sim.send },
    [WXAPI_MOUNT + STABLE_TOKEN_PATH]: { [ANY_METHOD]: sim.stableToken },
    [SIMULATOR_STATE_PATH]: { GET: sim.showState },
    [SIMULATOR_FAULTS_PATH]: { POST: sim.setFaults },
  });
  const server = http.createServer(async (req, res) => {
    if (!(await route(req, res, new URL(req.url, 'http://localhost')))) {
      res.writeHead(404).end();
    }
  });
  server.keepAliveTimeout = 2000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    apiBase: `http://127.0.0.1:${port}${WXAPI_MOUNT}`,
    sim,
    state,
    /** The user tapped Allow: a permit for (openid, template, scene). */
    permit: (openid, scene, templateId = TEMPLATE_ID) => state.authorize(openid, templateId, scene),
    messages: () => state.snapshot().messages,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await state.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
