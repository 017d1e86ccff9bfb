// Shared by npm run bench, bench:trace and bench:calls: one measured cold load, and how its page hands its figures
// to the bench.
//
// The page sends them to the bench's server when it is done, and the bench waits for them there, so nothing of
// the automation runs in the page while it is measured. Asking the page instead (Playwright's page.evaluate(), or
// polling with waitForFunction) runs Playwright's own scripts on the page's main thread: parsing and evaluating
// them costs tens of milliseconds at 4× CPU. And page.goto() returns at the `load` event, which does not wait for
// a module's top-level await: the package's entry (which awaits its wasm) is still loading then, the baseline has
// finished, so that cost landed inside the package's measurement only (up to 280 ms before the module body ran).

/** Where the page posts its figures. */
export const FIGURES_PATH = '/benches/figures';

/**
 * The page's side, for its <head>: `window.__finish(figures)` sends them (once); an uncaught error or rejection is
 * sent as `{ error }`.
 */
export const FIGURES_SCRIPT = `<script>
window.__finish = (figures) => {
  window.__finish = () => {};
  fetch('${FIGURES_PATH}', { method: 'POST', body: JSON.stringify(figures) });
};
addEventListener('error', (e) => window.__finish({ error: String(e.message) }));
addEventListener('unhandledrejection', (e) => window.__finish({ error: String(e.reason?.code ?? e.reason) }));
</script>`;

/**
 * The bench's side: `expect()` before the navigation returns the figures the next page sends (or `{ error:
 * 'timeout' }` after 20 s); `receive(req, res)` answers the page's POST and is true when it was one. One measured
 * page at a time.
 */
export function figuresChannel() {
  let deliver = null;
  return {
    expect() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ error: 'timeout' }), 20_000);
        deliver = (figures) => {
          clearTimeout(timer);
          resolve(figures);
        };
      });
    },
    receive(req, res) {
      if (req.method !== 'POST' || new URL(req.url, 'http://x').pathname !== FIGURES_PATH) return false;
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        res.writeHead(204).end();
        const figures = JSON.parse(Buffer.concat(chunks).toString());
        const waiting = deliver;
        deliver = null;
        waiting?.(figures);
      });
      return true;
    },
  };
}

/**
 * One cold load, as every bench measures it: a new context of `browser` (its own renderer process, so nothing V8
 * compiled survives), `blank` (same origin) opened first so that the process exists, as in an open WebView, then HTTP
 * cache off, the CPU throttled `rate` times, `prepare(cdp)` (whatever else the caller records; it may return a
 * function whose promise is awaited once the page is done), and the measured navigation to `url`: an address, or a
 * function run on the blank page first (to store a fixture) that returns it. Returns the figures the page sent
 * through `channel` (an error the page reported is thrown, prefixed with `label`) and what `prepare`'s function gave.
 */
export async function measureLoad(browser, { channel, blank, url, rate, label, prepare = async () => {} }) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(blank);
    const address = typeof url === 'function' ? await url(page) : url;
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    const after = await prepare(cdp);
    const arrived = channel.expect();
    await page.goto(address);
    const figures = await arrived;
    if (figures.error) throw new Error(`${label}: ${figures.error}`);
    return { figures, extra: await after?.() };
  } finally {
    await context.close();
  }
}

/** The median of a list of figures. */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
