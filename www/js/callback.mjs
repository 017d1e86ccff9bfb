// The landing page WeChat returns to: handleCallback() checks the answer against the subscription
// started here, delivers a granted one to the grant sink and cleans the address bar. A reload or
// back/forward to the cleaned address calls it again and gets the first outcome as a replay; a visit
// without a callback shows the page's neutral state. After a delivered grant, the send card (send.mjs)
// lets the demo backend push its one message.
import { $, errorText, loadConfig, loadPackage, mountSinkPanel, setText } from './demo.mjs';
import { short } from './short-id.mjs';
import { mountSendCard } from './send.mjs';

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

function render(outcome) {
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
  show('[data-testid="not-kept"]', granted && !outcome.delivered && !outcome.kept);
  show('[data-testid="result-replayed"]', Boolean(outcome.replayed));
  show('[data-testid="result-late"]', Boolean(outcome.late));
  const next = $('[data-testid="subscribe-another"]');
  next.hidden = false;
  next.className = `button ${granted && !outcome.delivered ? 'secondary' : 'primary'}`;
  // After a grant, suggest the next scene; after a cancel, the same one again.
  const scene = granted ? Math.min(Number(outcome.scene) + 1, 10000) : Number(outcome.scene);
  next.textContent = granted ? 'Subscribe another scene' : 'Subscribe again';
  next.href = `/?${new URLSearchParams({ template: outcome.templateId, scene: String(scene) })}`;
  // The grant reached the backend: it may send its one message now.
  sendCard.show(granted && outcome.delivered ? { reserved: outcome.reserved, scene: outcome.scene } : null);
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

/** Handles the page's callback (or replays the one its cleaned address carried) and shows the outcome. */
async function land() {
  try {
    render(await pkg.handleCallback({ grantEndpoint: config.grantEndpoint }));
  } catch (err) {
    if (err.code === 'no_callback') renderEmpty();
    else renderError(err);
  }
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
    // The outcome again, now with the delivery the retry made.
    if (pending === 0) await land();
  } catch (err) {
    box.textContent = `${errorText(err)} (${err.code ?? err.name}: ${err.message})`;
  } finally {
    button.disabled = false;
    sink.refresh();
  }
});

await land();
showAddress();
sink.refresh();
