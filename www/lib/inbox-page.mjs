// The simulated WeChat inbox (/inbox), styled like the consent simulator (WeChat's look, inline CSS,
// no downloads). The chat list has the Service Account's chat and "Service Notifications"; a message
// lands in the first when the user follows the account at delivery time, in the second otherwise,
// as WeChat's document says. ?chat=account or ?chat=notifications opens a conversation.
import { WECHAT_STYLE } from './consent-page.mjs';
import { escapeHtml } from './http.mjs';
import { isColor } from './wechat-rules.mjs';

export const CHATS = Object.freeze({
  account: 'Service Account',
  notifications: 'Service Notifications',
});

const STYLE = `${WECHAT_STYLE}
main.inbox{padding:0 0 32px}
.bar .back{position:absolute;left:12px;font-weight:400;font-size:16px;color:#191919;text-decoration:none}
.bar .title{max-width:calc(100% - 210px);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.chat-sub{font-size:12px;color:#b2b2b2;font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.me{display:flex;gap:12px;align-items:center;background:#fff;padding:16px}
.me .face{width:48px;height:48px;border-radius:8px;background:#c9c9c9;color:#fff;display:flex;align-items:center;justify-content:center;font-weight:700;font-size:20px;flex:none}
.me .who{min-width:0}
.me .name{font-weight:600}
.me .id{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;color:#7f7f7f;word-break:break-all}
.follow{display:flex;align-items:center;gap:12px;background:#fff;margin-top:8px;padding:12px 16px}
.follow .text{flex:1;min-width:0;font-size:15px}
.follow .hint{display:block;font-size:13px;color:#7f7f7f}
.switch{position:relative;width:51px;height:31px;border:0;border-radius:16px;background:#e5e5e5;cursor:pointer;padding:0;flex:none;transition:background .2s}
.switch::after{content:"";position:absolute;top:2px;left:2px;width:27px;height:27px;border-radius:50%;background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.3);transition:left .2s}
.switch[aria-checked="true"]{background:#07c160}
.switch[aria-checked="true"]::after{left:22px}
.section{font-size:13px;color:#7f7f7f;padding:16px 16px 6px;margin:0}
.chats{list-style:none;margin:0;padding:0;background:#fff}
.chats li+li .row{border-top:1px solid #ececec}
.chats a{display:block;text-decoration:none;color:inherit;padding-left:16px}
.chats a:active{background:#ececec}
.row{display:flex;gap:12px;align-items:center;padding:12px 16px 12px 0}
.chat-face{width:48px;height:48px;border-radius:8px;color:#fff;display:flex;align-items:center;justify-content:center;font-weight:700;font-size:20px;flex:none}
.chat-face.account{background:#07c160}
.chat-face.notifications{background:#fa9d3b}
.chat-body{flex:1;min-width:0}
.chat-name{font-size:17px}
.chat-preview{color:#9a9a9a;font-size:14px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.chat-meta{display:flex;flex-direction:column;align-items:flex-end;gap:4px;font-size:12px;color:#b2b2b2;flex:none}
.badge{min-width:20px;height:20px;line-height:20px;padding:0 6px;border-radius:10px;background:#fa5151;color:#fff;font-size:12px;text-align:center}
.thread{padding:8px 12px 0}
.stamp{text-align:center;color:#b2b2b2;font-size:12px;margin:18px 0 8px}
.msg{background:#fff;border-radius:8px;padding:14px 16px}
.msg .from{display:flex;align-items:center;gap:8px;font-size:13px;color:#7f7f7f;border-bottom:1px solid #f0f0f0;padding-bottom:8px;margin-bottom:10px}
.msg .from i{width:20px;height:20px;border-radius:4px;background:#07c160;color:#fff;font-style:normal;font-size:11px;font-weight:700;display:inline-flex;align-items:center;justify-content:center}
.msg h2{font-size:17px;line-height:1.35;margin:0 0 8px;word-break:break-word}
.msg .content{font-size:15px;white-space:pre-wrap;word-break:break-word;margin:0}
.msg .meta{font-size:12px;color:#b2b2b2;margin-top:8px}
.msg .link{display:flex;justify-content:space-between;gap:8px;border-top:1px solid #f0f0f0;margin-top:12px;padding-top:10px;font-size:14px;color:#191919;text-decoration:none}
.msg .link span:last-child{color:#b2b2b2}
.msg .link code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;color:#7f7f7f;word-break:break-all}
.empty{text-align:center;color:#9a9a9a;padding:56px 16px;font-size:14px}
.banner{background:#fff7e6;color:#8a5a00;font-size:13px;padding:10px 16px}
.foot{text-align:center;font-size:13px;margin-top:24px}
`;

const time = (iso) => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });

function shell(title, bar, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="bar">${bar}<span class="sim" title="This page stands in for the WeChat app">SIMULATOR</span></header>
<main class="inbox">
${body}
</main>
</body>
</html>
`;
}

function messageCard(m, { appid, showFrom }) {
  const color = isColor(m.color) ? ` style="color:${m.color}"` : '';
  let link = '';
  // WeChat opens the mini program when both are given (url is the fallback for old clients).
  if (m.miniprogram) {
    link = `<div class="link" data-testid="message-link" data-kind="miniprogram"><span>Mini program <code>${escapeHtml(m.miniprogram.appid)}${m.miniprogram.pagepath ? ` · ${escapeHtml(m.miniprogram.pagepath)}` : ''}</code></span><span>›</span></div>`;
  } else if (m.url) {
    link = `<a class="link" data-testid="message-link" data-kind="url" href="${escapeHtml(m.url)}" rel="noopener noreferrer" title="${escapeHtml(m.url)}"><span>View details</span><span>›</span></a>`;
  }
  return `<div class="stamp"><time datetime="${escapeHtml(m.at)}">${escapeHtml(time(m.at))}</time></div>
  <article class="msg" data-testid="message" data-id="${escapeHtml(m.id)}" data-scene="${escapeHtml(m.scene)}" data-template="${escapeHtml(m.template_id)}">
    ${showFrom ? `<div class="from"><i aria-hidden="true">${escapeHtml(appid.slice(2, 3).toUpperCase())}</i><span>Service Account ${escapeHtml(appid)}</span></div>` : ''}
    <h2 data-testid="message-title">${escapeHtml(m.title)}</h2>
    <p class="content" data-testid="message-content" data-color="${escapeHtml(color ? m.color : '')}"${color}>${escapeHtml(m.content)}</p>
    <div class="meta">Scene ${escapeHtml(m.scene)} · one-time subscription message</div>
    ${link}
  </article>`;
}

/**
 * state: { appid, openid, following, messages (this user's, oldest first), chat: null | 'account' |
 * 'notifications', realApi: whether /api/send calls another API than this simulator }.
 */
export function inboxPage({ appid, openid, following, messages, chat = null, realApi = false }) {
  const banner = realApi
    ? '<p class="banner" data-testid="inbox-real-api">/api/send calls the WeChat API configured in WX_API_BASE, not this simulator: real messages arrive in the WeChat app, not here.</p>'
    : '';
  if (chat) {
    const own = messages.filter((m) => m.placement === chat);
    const body = own.length
      ? own.map((m) => messageCard(m, { appid, showFrom: chat === 'notifications' })).join('\n  ')
      : '<p class="empty" data-testid="thread-empty">No messages yet.</p>';
    return shell(
      CHATS[chat],
      `<a class="back" href="/inbox" data-testid="inbox-back">‹ Chats</a><span class="title">${escapeHtml(CHATS[chat])}</span>`,
      `${banner}<section class="thread" data-testid="thread" data-chat="${chat}" data-count="${own.length}" data-openid="${escapeHtml(openid)}">
  ${body}
</section>`,
    );
  }

  const rows = Object.keys(CHATS)
    .map((kind) => {
      const own = messages.filter((m) => m.placement === kind);
      const last = own.at(-1);
      const name =
        kind === 'account' ? `${CHATS[kind]} <span class="chat-sub">${escapeHtml(appid)}</span>` : CHATS[kind];
      const preview = last
        ? last.title
        : kind === 'account'
          ? following
            ? 'You follow this account'
            : 'You do not follow this account'
          : 'Messages from accounts you do not follow';
      return `<li><a href="/inbox?chat=${kind}" data-testid="chat-${kind}" data-count="${own.length}">
      <div class="row">
        <div class="chat-face ${kind}" aria-hidden="true">${kind === 'account' ? escapeHtml(appid.slice(2, 3).toUpperCase()) : '✉'}</div>
        <div class="chat-body"><div class="chat-name">${name}</div><div class="chat-preview" data-testid="chat-${kind}-preview">${escapeHtml(preview)}</div></div>
        <div class="chat-meta">${last ? `<time datetime="${escapeHtml(last.at)}">${escapeHtml(time(last.at))}</time>` : ''}${own.length ? `<span class="badge" data-testid="chat-${kind}-badge">${own.length}</span>` : ''}</div>
      </div>
    </a></li>`;
    })
    .join('\n    ');

  return shell(
    'WeChat',
    'WeChat',
    `${banner}<section class="me" data-testid="inbox" data-openid="${escapeHtml(openid)}" data-following="${following}">
  <div class="face" aria-hidden="true">U</div>
  <div class="who"><div class="name">Simulated user</div><div class="id" data-testid="inbox-openid">openid ${escapeHtml(openid)}</div></div>
</section>
<form class="follow" method="post" action="/inbox/follow" data-testid="follow-form">
  <input type="hidden" name="following" value="${following ? '0' : '1'}">
  <span class="text">Follow Service Account <span data-testid="follow-appid">${escapeHtml(appid)}</span><span class="hint" data-testid="follow-hint">${
    following
      ? 'Following: its messages arrive in its chat.'
      : 'Not following: its messages arrive in Service Notifications.'
  }</span></span>
  <button class="switch" type="submit" role="switch" aria-checked="${following}" aria-label="Follow the Service Account" data-testid="follow-toggle"></button>
</form>
<h2 class="section">Chats</h2>
<ul class="chats">
    ${rows}
</ul>
<p class="foot"><a href="/">Back to the demo</a></p>`,
  );
}
