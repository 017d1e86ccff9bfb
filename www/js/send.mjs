// The landing page's "send the message" card: after a delivered grant, write a title (15 characters)
// and content (200), send it through the demo backend's POST /api/send, and show WeChat's answer
// with the package's explanation of its errcode (a second send is refused with 43101).
import { $, setText } from './demo.mjs';

const LIMITS = { title: 15, content: 200 };
// Characters as the package and WeChat count them: code points (one Chinese character is one).
export const countChars = (text) => [...text].length;

export function mountSendCard(config, { onSent = () => {} } = {}) {
  const card = $('[data-testid="send-card"]');
  const form = $('#send-form');
  const button = $('#send');
  const box = $('[data-testid="send-result"]');
  let grant = null;
  let answered = 0; // completed sends, so a test can wait for the n-th answer

  setText(
    '[data-testid="send-api"]',
    config.sendApi === 'remote' ? 'WeChat’s send API (WX_API_BASE)' : 'the local simulator of WeChat’s send API',
  );
  $('[data-testid="open-inbox"]').href = config.inboxUrl;

  function updateCount(name) {
    const length = countChars(form.elements[name].value);
    const count = setText(`[data-testid="${name}-count"]`, `${length} / ${LIMITS[name]}`);
    count.dataset.length = String(length);
    count.dataset.over = String(length > LIMITS[name] || length === 0);
  }
  for (const name of Object.keys(LIMITS)) {
    form.elements[name].addEventListener('input', () => updateCount(name));
    updateCount(name);
  }
  // The answer shown is about the message as it was sent: editing it puts the answer away.
  form.addEventListener('input', () => {
    box.hidden = true;
  });

  function showResult({
    state,
    title,
    errcode = '',
    errname = '',
    source = '',
    meaning = '',
    action = '',
    errmsg = '',
    request = null,
  }) {
    box.hidden = false;
    answered += 1;
    box.dataset.answered = String(answered);
    box.dataset.state = state;
    box.dataset.errcode = String(errcode);
    box.dataset.source = source;
    setText('[data-testid="send-result-title"]', title);
    setText('[data-testid="send-errcode"]', errcode === '' ? '' : `errcode ${errcode}`).hidden = errcode === '';
    setText('[data-testid="send-errname"]', errname).hidden = !errname;
    const sourceText =
      source === 'local'
        ? 'Refused by the demo backend: WeChat was not called'
        : source === 'wechat'
          ? `Answer from ${config.sendApi === 'remote' ? 'WeChat' : 'WeChat (simulator)'}`
          : '';
    setText('[data-testid="send-source"]', sourceText).hidden = !sourceText;
    setText('[data-testid="send-meaning"]', meaning).hidden = !meaning;
    setText('[data-testid="send-action"]', action ? `What to do: ${action}` : '').hidden = !action;
    setText('[data-testid="send-errmsg"]', errmsg).hidden = !errmsg;
    $('[data-testid="send-request-box"]').hidden = !request;
    setText('[data-testid="send-request"]', request ? JSON.stringify(request, null, 2) : '');
    box.scrollIntoView({ block: 'nearest' });
  }

  async function send() {
    const fields = {
      reserved: grant.reserved,
      title: form.elements.title.value,
      content: form.elements.content.value,
    };
    if (form.elements.color.value) fields.color = form.elements.color.value;
    if (form.elements.url.value.trim()) fields.url = form.elements.url.value.trim();

    let response;
    let body;
    try {
      response = await fetch(config.sendEndpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(fields),
      });
      body = await response.json();
    } catch (err) {
      showResult({ state: 'error', title: 'Could not reach the demo backend', errmsg: String(err.message ?? err) });
      return;
    }

    if (typeof body.errcode === 'number') {
      const { explanation } = body;
      const sent = body.errcode === 0 || body.state === 'sent'; // 'sent_earlier': a lost answer had delivered
      showResult({
        state: sent ? 'sent' : 'refused',
        title: sent
          ? 'Sent: it is in the WeChat inbox'
          : body.errcode === 43101
            ? 'Not sent: no permit left'
            : 'Not sent',
        errcode: body.errcode,
        errname: explanation.name,
        source: body.source,
        meaning: explanation.meaning,
        action: explanation.action,
        errmsg: body.errmsg,
        request: body.request,
      });
      if (sent) onSent(body);
      return;
    }
    const error = body.error ?? { code: `http_${response.status}`, message: 'unexpected answer' };
    showResult({
      state: 'error',
      title:
        response.status === 400
          ? 'Not sent: fix the message'
          : response.status === 502
            ? 'Not sent: the send API could not be reached'
            : 'Not sent',
      errname: error.code,
      errmsg: error.message,
      request: body.request ?? null,
    });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!grant) return;
    button.disabled = true;
    button.textContent = 'Sending…';
    box.dataset.busy = 'true';
    try {
      await send();
    } finally {
      button.disabled = false;
      button.textContent = 'Send the message';
      delete box.dataset.busy;
    }
  });

  return {
    /** grant: { reserved, scene } of a delivered grant, or null to hide the card. */
    show(next) {
      grant = next?.reserved ? next : null;
      card.hidden = !grant;
      card.dataset.scene = grant ? String(grant.scene) : '';
    },
  };
}
