// The simulated WeChat inbox: GET /inbox shows what the simulated send API delivered to this
// browser's simulated user (the consent simulator's cookie, hence the same openid); POST /inbox/follow
// (follow=1 or 0) follows or unfollows the Service Account, which decides where the next message lands.
import { sendError, sendHtml } from './http.mjs';
import { readForm } from './request-body.mjs';
import { CHATS, inboxPage } from './inbox-page.mjs';
import { openidFor, simulatedUser } from './simulator.mjs';

export const INBOX_PATH = '/inbox';
export const FOLLOW_PATH = '/inbox/follow';

/** Handlers of INBOX_PATH (show) and FOLLOW_PATH (follow). */
export function createInbox(config, { state, realApi = false, log = () => {} }) {
  async function show(req, res, url) {
    const openid = openidFor(simulatedUser(req, res), config.appid);
    await state.seeUser(openid);
    const chat = Object.hasOwn(CHATS, url.searchParams.get('chat') ?? '') ? url.searchParams.get('chat') : null;
    const page = inboxPage({
      appid: config.appid,
      openid,
      following: state.isFollowing(openid),
      messages: state.messagesFor(openid),
      chat,
      realApi,
    });
    sendHtml(res, 200, page, { 'Referrer-Policy': 'no-referrer' });
  }

  async function follow(req, res) {
    const form = await readForm(req, res, 1024);
    if (!form) return;
    const following = form.get('following');
    if (following !== '1' && following !== '0') {
      return sendError(res, 400, 'invalid_following', 'following must be 1 or 0');
    }
    const openid = openidFor(simulatedUser(req, res), config.appid);
    await state.setFollowing(openid, following === '1');
    log(`inbox: the simulated user ${following === '1' ? 'follows' : 'unfollowed'} the Service Account`);
    res.writeHead(303, { Location: INBOX_PATH, 'Cache-Control': 'no-store', 'Content-Length': 0 });
    res.end();
  }

  return { show, follow };
}
