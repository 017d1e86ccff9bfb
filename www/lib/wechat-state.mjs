// What the simulated WeChat remembers, durably in DATA_DIR/wechat-sim.jsonl: the users it has seen
// (their openids), whether each follows the Service Account, the send permits per
// (openid, template_id, scene), and the messages delivered. One log, so that "consume the permit and
// deliver the message" is one line: both happen or neither does.
//
// The permit rule (WeChat's document): each authorization lets the account send one message;
// authorizing again under the same scene does not accumulate (the permit is set to 1, not
// incremented); a different scene is a separate permit. A delivered message consumes it.
import crypto from 'node:crypto';
import { openJsonLog } from './jsonl.mjs';

export const WECHAT_SIM_FILE = 'wechat-sim.jsonl';

const permitKey = (openid, templateId, scene) => `${openid}\n${templateId}\n${scene}`;

export async function openWeChatState(dataDir) {
  const users = new Set();
  const following = new Map();
  const permits = new Map(); // key -> { openid, template_id, scene, permits, authorizations, authorized_at }
  const messages = [];

  function apply(entry) {
    switch (entry.type) {
      case 'user':
        users.add(entry.openid);
        break;
      case 'follow':
        users.add(entry.openid);
        following.set(entry.openid, Boolean(entry.following));
        break;
      case 'permit': {
        users.add(entry.openid);
        const key = permitKey(entry.openid, entry.template_id, entry.scene);
        const known = permits.get(key);
        permits.set(key, {
          openid: entry.openid,
          template_id: entry.template_id,
          scene: entry.scene,
          permits: 1, // set, not added: the same scene does not accumulate
          authorizations: (known?.authorizations ?? 0) + 1,
          authorized_at: entry.at,
        });
        break;
      }
      case 'message': {
        messages.push(entry);
        const permit = permits.get(permitKey(entry.openid, entry.template_id, entry.scene));
        if (permit) permit.permits = 0;
        break;
      }
      default:
        break; // an entry of a later version: ignored
    }
  }

  const log = await openJsonLog(dataDir, WECHAT_SIM_FILE, apply);
  const now = () => new Date().toISOString();
  const record = (append, entry) => append(entry).then(() => apply(entry));

  return {
    file: log.file,
    skipped: log.skipped,
    knows: (openid) => users.has(openid),
    isFollowing: (openid) => following.get(openid) ?? false,
    /** Remembers an openid the first time its user shows up (consent page, inbox). */
    seeUser: (openid) =>
      users.has(openid)
        ? Promise.resolve()
        : log.transaction((append) => (users.has(openid) ? null : record(append, { type: 'user', openid, at: now() }))),
    setFollowing: (openid, value) =>
      log.transaction((append) => record(append, { type: 'follow', openid, following: Boolean(value), at: now() })),
    /** The user tapped Allow for this template and scene: the permit becomes 1 (whatever it was). */
    authorize: (openid, templateId, scene) =>
      log.transaction((append) =>
        record(append, { type: 'permit', openid, template_id: templateId, scene: String(scene), at: now() }),
      ),
    permitsFor: (openid, templateId, scene) => permits.get(permitKey(openid, templateId, String(scene)))?.permits ?? 0,
    /**
     * Delivers a message if the triple has a permit, atomically with consuming it.
     * Resolves { delivered: message } or { refused: 'no_permit' }.
     */
    deliver(message) {
      return log.transaction(async (append) => {
        const permit = permits.get(permitKey(message.openid, message.template_id, message.scene));
        if (!permit || permit.permits < 1) return { refused: 'no_permit' };
        const entry = {
          type: 'message',
          id: crypto.randomBytes(8).toString('hex'),
          ...message,
          placement: following.get(message.openid) ? 'account' : 'notifications',
          at: now(),
        };
        await record(append, entry);
        return { delivered: entry };
      });
    },
    messagesFor: (openid) => messages.filter((m) => m.openid === openid),
    snapshot: () => ({
      users: [...users].map((openid) => ({ openid, following: following.get(openid) ?? false })),
      permits: [...permits.values()].map((p) => ({ ...p })),
      messages: messages.map((m) => ({ ...m })),
    }),
    close: () => log.close(),
  };
}
