// What both demo pages share: the server's configuration, loading the package, the environment
// card (WeChat or not), friendly texts for the package's error codes, and the grant-sink panel.
import { short } from './short-id.mjs';

export const $ = (selector, root = document) => root.querySelector(selector);

export function setText(selector, text) {
  const node = $(selector);
  if (node) node.textContent = text;
  return node;
}

export async function loadConfig() {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /config.json answered ${response.status}`);
  const config = await response.json();
  // The local simulator is given as a path: use it on the origin that served this page.
  config.authorizeUrl = new URL(config.authorizeUrl, location.href).href;
  return config;
}

/** Imports the built package, or shows what to do when it is not built or its wasm cannot load (`ready` rejects:
 * the import itself succeeds then, so that a page can say so). */
export async function loadPackage() {
  let pkg;
  try {
    pkg = await import('/pkg/index.js');
  } catch (err) {
    showFatal('The package is not built', 'Run npm run build (npm start does it), then reload this page.', err);
    throw err;
  }
  await pkg.ready.catch((err) => {
    showFatal('wx-subscribemsg is unavailable:', ` ${err.message}`, err);
    throw err;
  });
  return pkg;
}

export function showFatal(title, text, err) {
  const banner = $('#fatal');
  banner.hidden = false;
  banner.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = title;
  banner.append(strong, text);
  if (err) console.error(err);
}

/** Fills the environment card and shows the "not in WeChat" banner when needed. */
export function renderEnvironment(pkg, config) {
  const inWeChat = pkg.isWeChat();
  const version = pkg.weChatVersion();
  document.body.dataset.wechat = String(inWeChat);
  setText('[data-testid="env-wechat"]', inWeChat ? `Yes · WeChat ${version ?? '(version unknown)'}` : 'No');
  const consent = config.authorizeUrl.startsWith(location.origin)
    ? 'Local simulator'
    : new URL(config.authorizeUrl).host === 'mp.weixin.qq.com'
      ? 'WeChat (mp.weixin.qq.com)'
      : new URL(config.authorizeUrl).host;
  setText('[data-testid="env-consent"]', consent);
  setText('[data-testid="env-appid"]', config.appid);
  setText('[data-testid="env-domain"]', config.businessDomain);

  const banner = $('[data-testid="not-wechat-banner"]');
  if (banner) {
    banner.hidden = inWeChat;
    setText(
      '[data-testid="not-wechat-text"]',
      config.simulator
        ? 'Real WeChat only shows its consent page inside the WeChat app. This demo uses the local simulator, so it works here too.'
        : 'The consent page is WeChat’s: open this page inside the WeChat app.',
    );
  }
  const domain = $('[data-testid="domain-banner"]');
  if (domain && location.hostname !== config.businessDomain) {
    domain.hidden = false;
    setText(
      '[data-testid="domain-text"]',
      `Open this demo on the business domain ${config.businessDomain} (this page is on ${location.hostname}): WeChat only returns to pages on it.`,
    );
  }
}

const ERROR_TEXTS = {
  invalid_appid: 'The Service Account id is not valid.',
  invalid_scene: 'Scene must be a whole number from 0 to 10000.',
  invalid_template_id: 'Pick a message template.',
  invalid_redirect_url: 'The return page address is not valid.',
  domain_mismatch: 'This page is not on the Service Account’s business domain.',
  not_in_wechat: 'Open this page in WeChat to subscribe.',
  storage_unavailable: 'This browser blocks the storage the subscription needs.',
  invalid_option: 'An option given to the package is not valid.',
  invalid_reserved: 'The request’s security token is not valid.',
  crypto_unavailable: 'This browser cannot generate the security token the subscription needs.',
  no_callback: 'This page shows the answer WeChat sends back after you subscribe.',
  missing_param: 'This address is not a complete subscription response.',
  duplicate_param: 'This address repeats a subscription parameter.',
  invalid_param: 'This address holds an invalid subscription parameter.',
  unknown_reserved: 'This response does not belong to a subscription started in this browser.',
  template_mismatch: 'The response names another message template than the one requested.',
  scene_mismatch: 'The response names another scene than the one requested.',
  backend_rejected: 'Our server refused this subscription.',
};

export function errorText(err) {
  return ERROR_TEXTS[err?.code] ?? 'Something went wrong.';
}

const SINK_PANEL = `
  <h2>Demo backend · grant sink</h2>
  <p class="sink-status" data-testid="sink-status"><span class="dot"></span><span>…</span></p>
  <div class="segmented" role="group" aria-label="Make the grant sink fail">
    <button type="button" data-testid="fault-ok" aria-pressed="true">Working</button>
    <button type="button" data-testid="fault-flaky" aria-pressed="false">Fail next 2</button>
    <button type="button" data-testid="fault-down" aria-pressed="false">Down</button>
  </div>
  <details class="grants">
    <summary data-testid="grant-count">…</summary>
    <ul class="grant-list" data-testid="grant-list"></ul>
  </details>`;

/** The grant sink panel: its fault switch and what it stored. Returns { refresh }. */
export function mountSinkPanel(config, container = $('[data-testid="sink"]')) {
  container.innerHTML = SINK_PANEL;
  const status = $('[data-testid="sink-status"]');
  const list = $('[data-testid="grant-list"]');
  const count = $('[data-testid="grant-count"]');
  const buttons = {
    ok: $('[data-testid="fault-ok"]'),
    flaky: $('[data-testid="fault-flaky"]'),
    down: $('[data-testid="fault-down"]'),
  };

  function showFaults(faults) {
    const mode = faults.down !== null ? 'down' : faults.queue.length ? 'failing' : 'ok';
    status.dataset.faults = mode;
    status.lastChild.textContent =
      mode === 'down'
        ? `Down: every delivery fails (${faults.down})`
        : mode === 'failing'
          ? `Flaky: the next ${faults.queue.length} deliveries fail (${faults.queue.join(', ')})`
          : 'Working';
    buttons.ok.setAttribute('aria-pressed', String(mode === 'ok'));
    buttons.flaky.setAttribute('aria-pressed', String(mode === 'failing'));
    buttons.down.setAttribute('aria-pressed', String(mode === 'down'));
  }

  /** used: the reserved values whose one message is spent (from the send log). */
  function showGrants(grants, used) {
    count.textContent = `${grants.length} grant${grants.length === 1 ? '' : 's'} stored`;
    list.dataset.count = String(grants.length);
    list.replaceChildren(
      ...grants
        .slice(-10)
        .reverse()
        .map((g) => {
          const item = document.createElement('li');
          const when = new Date(g.received_at).toLocaleTimeString();
          item.innerHTML = '<strong></strong> · <span></span> <span class="chip"></span><br><span class="mono"></span>';
          item.children[0].textContent = `Scene ${g.scene}`;
          item.children[1].textContent = `template ${short(g.template_id)} · ${when}`;
          item.children[2].textContent = used.has(g.reserved) ? 'message used' : 'can send 1';
          item.children[2].dataset.used = String(used.has(g.reserved));
          item.children[4].textContent = `openid ${g.openid}`;
          return item;
        }),
    );
  }

  async function refresh() {
    try {
      const [response, sends] = await Promise.all([
        fetch(config.grantEndpoint, { cache: 'no-store' }),
        fetch(config.sendsEndpoint, { cache: 'no-store' })
          .then((r) => r.json())
          .catch(() => ({ sends: [] })),
      ]);
      const body = await response.json();
      showFaults(body.faults);
      showGrants(body.grants, new Set(sends.sends.filter((s) => s.consumed).map((s) => s.reserved)));
    } catch {
      status.dataset.faults = 'unreachable';
      status.lastChild.textContent = 'Unreachable';
    }
  }

  async function setFaults(method, body) {
    await fetch(config.faultsEndpoint, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    await refresh();
  }

  buttons.ok.addEventListener('click', () => setFaults('DELETE'));
  buttons.flaky.addEventListener('click', () => setFaults('PUT', { queue: [503, 503] }));
  buttons.down.addEventListener('click', () => setFaults('PUT', { down: 503 }));
  refresh();
  return { refresh };
}
