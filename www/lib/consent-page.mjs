// The simulator's two pages, styled after WeChat's own (inline CSS, no downloads): the consent page
// with Allow / Cancel, and the page explaining why a link was refused.
import { short } from '../js/short-id.mjs';
import { escapeHtml } from './http.mjs';

export const WECHAT_STYLE = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
a{color:#576b95}
body{margin:0;background:#ededed;color:#191919;font:16px/1.5 -apple-system,BlinkMacSystemFont,"PingFang SC","Helvetica Neue","Microsoft YaHei",Roboto,"Noto Sans CJK SC",sans-serif}
.bar{position:sticky;top:0;display:flex;align-items:center;justify-content:center;height:48px;background:#ededed;border-bottom:1px solid #dcdcdc;font-weight:600;font-size:17px}
.bar .sim{position:absolute;right:12px;font-size:11px;font-weight:600;color:#fa9d3b;border:1px solid #fa9d3b;border-radius:4px;padding:1px 6px;letter-spacing:.04em}
main{max-width:480px;margin:0 auto;padding:24px 16px 32px}
.sheet{background:#fff;border-radius:12px;padding:28px 20px 20px;text-align:center}
.avatar{width:56px;height:56px;margin:0 auto 12px;border-radius:50%;background:#07c160;color:#fff;display:flex;align-items:center;justify-content:center;font-weight:700;font-size:22px}
h1{font-size:20px;margin:0 0 4px}
.sub{color:#7f7f7f;font-size:14px;margin:0 0 20px}
.tpl{background:#f7f7f7;border-radius:8px;padding:14px 16px;text-align:left;margin:0 0 16px}
.tpl .label{color:#7f7f7f;font-size:13px}
.tpl .value{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:14px;word-break:break-all}
.tpl div+div{margin-top:8px}
.note{color:#7f7f7f;font-size:13px;text-align:left;margin:0 0 24px}
button{display:block;width:100%;border:0;border-radius:8px;padding:13px 16px;font:inherit;font-weight:600;font-size:17px;cursor:pointer}
.allow{background:#07c160;color:#fff}
.allow:active{background:#06ad56}
.cancel{background:#f2f2f2;color:#07c160;margin-top:12px}
.meta{margin-top:20px;color:#9a9a9a;font-size:12px;text-align:center;word-break:break-all}
.warn{background:#fff7e6;color:#8a5a00;border-radius:8px;padding:10px 14px;font-size:13px;margin:0 0 16px;text-align:left}
.error{background:#fff;border-radius:12px;padding:28px 20px}
.error h1{color:#fa5151}
.error li{margin:8px 0}
.error code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;background:#f7f7f7;border-radius:4px;padding:1px 5px}
`;

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<title>${escapeHtml(title)}</title>
<style>${WECHAT_STYLE}</style>
</head>
<body>
<header class="bar">WeChat<span class="sim" title="This page stands in for mp.weixin.qq.com">SIMULATOR</span></header>
<main>
${body}
</main>
</body>
</html>
`;
}

/**
 * The consent page for a valid link. fields: the link's parameters, posted back with the choice to
 * formAction; following: whether the simulated user follows the account (null: unknown), which decides
 * where the message lands.
 */
export function consentPage(link, { openid, inWeChat, formAction, fields, following = null }) {
  const hidden = fields
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n    ');
  const redirect = new URL(link.redirect_url);
  return page(
    'Receive a message',
    `<section class="sheet" data-testid="consent">
  <div class="avatar" aria-hidden="true">${escapeHtml(link.appid.slice(2, 3).toUpperCase())}</div>
  <h1>Receive one message?</h1>
  <p class="sub">Service Account <span data-testid="consent-appid">${escapeHtml(link.appid)}</span> asks to send you one message</p>
  ${inWeChat ? '' : '<p class="warn" data-testid="consent-not-wechat">Real WeChat opens this page only inside the WeChat app. The simulator lets this browser through.</p>'}
  <div class="tpl">
    <div><div class="label">Template</div><div class="value" data-testid="consent-template" title="${escapeHtml(link.template_id)}">${escapeHtml(short(link.template_id))}</div></div>
    <div><div class="label">Scene</div><div class="value" data-testid="consent-scene">${escapeHtml(link.scene)}</div></div>
  </div>
  <p class="note">Allowing lets it send one message for this scene. Allowing the same scene again does not add more messages.</p>
  ${
    following === null
      ? ''
      : `<p class="note" data-testid="consent-placement" data-following="${following}">${
          following
            ? 'You follow this Service Account: its message will arrive in its chat.'
            : 'You do not follow this Service Account: its message will arrive in Service Notifications.'
        } <a href="/inbox">Your inbox</a></p>`
  }
  <form method="post" action="${escapeHtml(formAction)}" data-testid="consent-form">
    ${hidden}
    <button class="allow" type="submit" name="decision" value="confirm">Allow</button>
    <button class="cancel" type="submit" name="decision" value="cancel">Cancel</button>
  </form>
  <p class="meta">Simulated user <span data-testid="consent-openid">${escapeHtml(openid)}</span><br>Returns to ${escapeHtml(redirect.host + redirect.pathname)}</p>
</section>`,
  );
}

export function errorPage(problems) {
  const items = problems
    .map(
      (p) =>
        `<li data-param="${escapeHtml(p.param)}"><code>${escapeHtml(p.param)}</code> ${escapeHtml(p.message)}</li>`,
    )
    .join('\n    ');
  return page(
    'Cannot open this link',
    `<section class="error" data-testid="consent-error">
  <h1>This link cannot be opened</h1>
  <p class="sub">WeChat would refuse this subscription link:</p>
  <ul>
    ${items}
  </ul>
</section>`,
  );
}
