// The simulated WeChat inbox: GET /inbox shows what the simulated send API delivered to this
// browser's simulated user (the consent simulator's cookie, hence the same openid); POST /inbox/follow
// (follow=1 or 0) follows or unfollows the Service Account, which decides where the next message lands.
import { HttpError, methodNotAllowed, readBody, sendHtml } from './http.mjs';
import { CHATS, inboxPage } from './inbox-page.mjs';
import { openidFor, simulatedUser } from './simulator.mjs';

export const INBOX_PATH = '/inbox';
export const FOLLOW_PATH = '/inbox/follow';

export function createInbox(config, { state, realApi = false, log = () => {} }) {
  return async function handleInbox(req, res, url) {
    if (url.pathname === INBOX_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        methodNotAllowed(res, ['GET']);
        return true;
      }
      const openid = openidFor(simulatedUser(req, res), config.appid);
      await state.seeUser(openid);
      const chat = Object.hasOwn(CHATS, url.searchParams.get('chat') ?? '') ? url.searchParams.get('chat') : null;
      sendHtml(
        res,
        200,
        inboxPage({
          appid: config.appid,
          openid,
          following: state.isFollowing(openid),
          messages: state.messagesFor(openid),
          chat,
          realApi,
        }),
        { 'Referrer-Policy': 'no-referrer' },
      );
      return true;
    }
    if (url.pathname === FOLLOW_PATH) {
      if (req.method !== 'POST') {
        methodNotAllowed(res, ['POST']);
        return true;
      }
      let form;
      try {
        form = new URLSearchParams(await readBody(req, 1024));
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        res.writeHead(err.status, { 'Content-Length': 0 });
        res.end();
        return true;
      }
      const following = form.get('following');
      if (following !== '1' && following !== '0') {
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('following must be 1 or 0\n');
        return true;
      }
      const openid = openidFor(simulatedUser(req, res), config.appid);
      await state.setFollowing(openid, following === '1');
      log(`inbox: the simulated user ${following === '1' ? 'follows' : 'unfollowed'} the Service Account`);
      res.writeHead(303, { Location: INBOX_PATH, 'Cache-Control': 'no-store', 'Content-Length': 0 });
      res.end();
      return true;
    }
    return false;
  };
}
