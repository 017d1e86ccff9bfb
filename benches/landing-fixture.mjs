// Shared by npm run bench and npm run bench:trace: the landing page's fixture and one measured load of it.
import { measureLoad } from './figures.mjs';

// The record each implementation's authorize() would have stored for this landing page (run in the page, passed to
// page.evaluate, so it is self-contained): the package's one-line format (src/subscription/record.rs) in both
// storage areas, the baseline's JSON in sessionStorage.
export function storeFixture({ impl, reserved, redirectUrl, appid, templateId }) {
  const now = Date.now();
  if (impl === 'package') {
    const line = `2 ${now} ${now + 600_000} - pending 1000 ${appid} ${templateId} ${redirectUrl}`;
    sessionStorage.setItem(`wxsub:${reserved}`, line);
    localStorage.setItem(`wxsub:${reserved}`, line);
  } else {
    const record = { appid, scene: 1000, templateId, redirectUrl, reserved, expires: now + 600_000, state: 'pending' };
    sessionStorage.setItem(`wxsub:${reserved}`, JSON.stringify(record));
  }
}

/** The link both benches' landing pages answer: an app, a template, and scene 1000 (the fixture's). */
export const APPID = 'wxaba38c7f163da69b';
export const TEMPLATE = '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc';

/** A fresh 32-character nonce, as the package makes them. */
const nonce = () => {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 32 }, () => abc[Math.floor(Math.random() * abc.length)]).join('');
};

/**
 * One measured load of a landing page (benches/figures.mjs, measureLoad), as WeChat redirects back after an Allow:
 * the pending record stored in `impl`'s format on the blank page first (so the module is not loaded in that renderer
 * before the measured navigation), then `landing` opened with the callback. Returns measureLoad's answer once the
 * page's result says the grant was verified and delivered.
 */
export async function measureLanding(browser, { landing, impl, label, ...load }) {
  const measured = await measureLoad(browser, {
    ...load,
    label: `${label} landing`,
    url: async (page) => {
      const reserved = nonce();
      await page.evaluate(storeFixture, { impl, reserved, redirectUrl: landing, appid: APPID, templateId: TEMPLATE });
      return `${landing}?openid=oUser_1-abcdefghijklmnopqrstu&template_id=${TEMPLATE}&action=confirm&scene=1000&reserved=${reserved}`;
    },
  });
  const { result } = measured.figures;
  if (result.status !== 'granted' || result.delivered !== true || result.replayed)
    throw new Error(`${label} landing: ${JSON.stringify(result)}`);
  return measured;
}
