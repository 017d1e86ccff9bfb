// Shared by npm run bench and npm run bench:trace: how a measured page hands its figures to the bench.
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
