// The H5 page: pick a template and a scene, press Subscribe -> authorize() -> go to the consent page.
// Test hook: ?ttl=SECONDS (how long the started subscription stays valid); ?scene= and ?template=
// prefill the form (the landing page's "Subscribe another scene" uses them).
import { $, errorText, loadConfig, loadPackage, mountSinkPanel, renderEnvironment, setText } from './demo.mjs';
import { short } from './short-id.mjs';

const config = await loadConfig();
mountSinkPanel(config);
const pkg = await loadPackage();
renderEnvironment(pkg, config);

const query = new URLSearchParams(location.search);
const form = $('#subscribe-form');
const templateSelect = $('#template');
const sceneInput = $('#scene');
const button = $('#subscribe');

for (const [i, id] of config.templateIds.entries()) {
  const option = new Option(`Template ${i + 1} · ${short(id)}`, id);
  option.title = id;
  templateSelect.append(option);
}
if (config.templateIds.includes(query.get('template'))) templateSelect.value = query.get('template');
if (query.has('scene')) sceneInput.value = query.get('scene');

const ttlSeconds = query.has('ttl') ? Number(query.get('ttl')) : 600;
if (query.has('ttl')) {
  const hook = $('[data-testid="ttl-hook"]');
  hook.hidden = false;
  hook.textContent = `Test hook: an answer counts as late after ${query.get('ttl')} s.`;
}

function showError(err) {
  const box = $('[data-testid="subscribe-error"]');
  box.hidden = false;
  box.dataset.code = err.code ?? 'unexpected';
  setText('[data-testid="subscribe-error-text"]', errorText(err));
  setText('[data-testid="subscribe-error-code"]', err.code ?? err.name);
  setText('[data-testid="subscribe-error-message"]', err.message);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  $('[data-testid="subscribe-error"]').hidden = true;
  const landing = form.elements.landing.value === 'hash' ? '/callback.html#/done' : '/callback.html?from=demo';
  const sceneText = sceneInput.value.trim();
  let link;
  try {
    link = pkg.authorize({
      appid: config.appid,
      scene: sceneText === '' ? Number.NaN : Number(sceneText),
      templateId: templateSelect.value,
      redirectUrl: new URL(landing, location.href).href,
      businessDomain: config.businessDomain,
      ttlSeconds,
      authorizeUrl: config.authorizeUrl,
    });
  } catch (err) {
    showError(err);
    return;
  }
  button.disabled = true;
  button.textContent = 'Opening WeChat…';
  location.href = link;
});

// Coming back with the browser's back button restores this page from the bfcache: re-enable it.
window.addEventListener('pageshow', () => {
  button.disabled = false;
  button.textContent = 'Subscribe';
});
button.disabled = false;
document.body.dataset.ready = 'true';
