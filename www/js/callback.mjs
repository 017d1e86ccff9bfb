// The landing page WeChat returns to: handleCallback() checks the answer against the subscription
// started here, delivers a granted one to the grant sink and cleans the address bar. The result is
// also kept in history.state, so a reload or back/forward shows it again once the address is clean.
// After a delivered grant, the send card (send.mjs) lets the demo backend push its one message.
import { $, errorText, loadConfig, loadPackage, mountSinkPanel, setText } from './demo.mjs';
import { short } from './short-id.mjs';
import { mountSendCard } from './send.mjs';

const CALLBACK_PARAMS = ['openid', 'template_id', 'action', 'scene', 'reserved'];
const result = $('[data-testid="result"]');

const config = await loadConfig();
const sink = mountSinkPanel(config);
const sendCard = mountSendCard(config, { onSent: () => sink.refresh() });
showAddress();
window.addEventListener('hashchange', showAddress);
const pkg = await loadPackage();

function showAddress() {
  setText('[data-testid="address"]', location.pathname + location.search + location.hash);
  const route = $('[data-testid="route"]');
  route.hidden = !location.hash.startsWith('#/');
  route.textContent = `Route ${location.hash}`;
  document.body.dataset.route = location.hash.startsWith('#/') ? location.hash.slice(1) : '';
}

function show(selector, visible) {
  $(selector).hidden = !visible;
}

function render(outcome, { restored = false } = {}) {
  const granted = outcome.status === 'granted';
  result.dataset.state = outcome.status;
  result.dataset.replayed = String(Boolean(outcome.replayed));
  result.dataset.delivered = granted ? String(outcome.delivered) : '';
  $('[data-testid="result-icon"]').textContent = granted ? '✓' : '–';
  setText('[data-testid="result-title"]', granted ? 'Subscribed' : 'Subscription cancelled');
  setText(
    '[data-testid="result-text"]',
    granted
      ? `We can send you one message for scene ${outcome.scene}.`
      : 'You chose not to receive this message. Nothing was saved.',
  );
  show('[data-testid="result-facts"]', true);
  setText('[data-testid="result-template"]', short(outcome.templateId)).title = outcome.templateId;
  setText('[data-testid="result-scene"]', String(outcome.scene));
  for (const node of document.querySelectorAll('[data-field="openid"], [data-field="delivered"]'))
    node.hidden = !granted;
  if (granted) {
    setText('[data-testid="result-openid"]', outcome.openid);
    const delivered = setText('[data-testid="result-delivered"]', outcome.delivered ? 'Yes' : 'Not yet');
    delivered.className = outcome.delivered ? 'yes' : 'no';
  }
  show('[data-testid="retry-box"]', granted && !outcome.delivered);
  show('[data-testid="result-replayed"]', Boolean(outcome.replayed) && !restored);
  show('[data-testid="result-restored"]', restored);
  const next = $('[data-testid="subscribe-another"]');
  next.hidden = false;
  next.className = `button ${granted && !outcome.delivered ? 'secondary' : 'primary'}`;
  // After a grant, suggest the next scene; after a cancel, the same one again.
  const scene = granted ? Math.min(Number(outcome.scene) + 1, 10000) : Number(outcome.scene);
  next.textContent = granted ? 'Subscribe another scene' : 'Subscribe again';
  next.href = `/?${new URLSearchParams({ template: outcome.templateId, scene: String(scene) })}`;
  // The grant reached the backend: it may send its one message now.
  sendCard.show(
    granted && outcome.delivered && outcome.reserved ? { reserved: outcome.reserved, scene: outcome.scene } : null,
  );
}

function renderError(err) {
  result.dataset.state = 'error';
  result.dataset.code = err.code ?? 'unexpected';
  $('[data-testid="result-icon"]').textContent = '!';
  setText('[data-testid="result-title"]', 'Not subscribed');
  setText('[data-testid="result-text"]', errorText(err));
  show('[data-testid="error"]', true);
  setText('[data-testid="error-code"]', err.code ?? err.name);
  setText('[data-testid="error-message"]', err.message);
}

function renderEmpty() {
  result.dataset.state = 'empty';
  $('[data-testid="result-icon"]').textContent = '?';
  setText('[data-testid="result-title"]', 'Nothing to show');
  setText('[data-testid="result-text"]', 'This page shows the answer WeChat sends back after you subscribe.');
}

/**
 * A structured-cloneable copy of a Result, for history.state. `reserved` (read from the callback
 * address, verified by handleCallback) names the grant for the demo backend's /api/send.
 */
function plain({ status, openid, templateId, scene, delivered, replayed }, reserved) {
  return status === 'granted'
    ? { status, openid, templateId, scene, delivered, replayed, reserved }
    : { status, templateId, scene, replayed };
}

/** Keeps the outcome in this history entry, for reloads and back/forward after the URL is cleaned. */
function remember(outcome) {
  history.replaceState({ ...(history.state ?? {}), wxsubDemoResult: outcome }, '', location.href);
}

$('[data-testid="retry"]').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  const box = setText('[data-testid="retry-result"]', 'Sending…');
  box.hidden = false;
  delete box.dataset.pending;
  try {
    const { delivered, pending, rejected = 0 } = await pkg.retryDeliveries({ grantEndpoint: config.grantEndpoint });
    box.textContent =
      (pending === 0
        ? `Sent ${delivered} saved subscription${delivered === 1 ? '' : 's'} to our server. Nothing left to send.`
        : `Sent ${delivered}; ${pending} still waiting. Our server is not reachable yet: try again later.`) +
      (rejected ? ` Our server refused ${rejected}.` : '');
    box.dataset.delivered = String(delivered);
    box.dataset.pending = String(pending);
    if (pending === 0) {
      const outcome = { ...history.state?.wxsubDemoResult, delivered: true };
      remember(outcome);
      render(outcome);
    }
  } catch (err) {
    box.textContent = `${errorText(err)} (${err.code ?? err.name}: ${err.message})`;
  } finally {
    button.disabled = false;
    sink.refresh();
  }
});

const query = new URLSearchParams(location.search);
if (CALLBACK_PARAMS.some((name) => query.has(name))) {
  try {
    const reserved = query.get('reserved');
    const outcome = plain(await pkg.handleCallback({ grantEndpoint: config.grantEndpoint }), reserved);
    remember(outcome);
    render(outcome);
  } catch (err) {
    remember({ status: 'error', code: err.code, name: err.name, message: err.message });
    renderError(err);
  }
} else if (history.state?.wxsubDemoResult?.status === 'error') {
  renderError(history.state.wxsubDemoResult);
  show('[data-testid="result-restored"]', true);
} else if (history.state?.wxsubDemoResult) {
  render(history.state.wxsubDemoResult, { restored: true });
} else {
  renderEmpty();
}
showAddress();
sink.refresh();
