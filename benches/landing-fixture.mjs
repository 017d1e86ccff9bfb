// Shared by npm run bench and npm run bench:trace. Runs in the page (passed to page.evaluate), so it is self-contained.

// The record each implementation's authorize() would have stored for this landing page: the package's one-line
// format (src/subscription/record.rs) in both storage areas, the baseline's JSON in sessionStorage.
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
