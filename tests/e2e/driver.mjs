// One small tab API over the three automation clients (playwright-core for Chromium, puppeteer-core for Firefox,
// selenium-webdriver for WebKit), so a scenario is written once and run in every engine WeChat uses. Only what
// the cross-engine scenarios need: go, click, run a function in the page, wait for one to return a value, reload.
import { By } from 'selenium-webdriver';
import { launchChromium, launchFirefox, startWebKit } from '../../scripts/browsers.mjs';

export const ENGINES = ['chromium', 'webkit', 'firefox'];
const PHONE = { width: 390, height: 844 };

/** Starts an engine; returns { name, version, newTab({ userAgent }), close() }. */
export async function openEngine(name) {
  if (name === 'chromium') {
    const browser = await launchChromium();
    return {
      name,
      version: browser.version(),
      async newTab({ userAgent } = {}) {
        const context = await browser.newContext({ viewport: PHONE, userAgent });
        return pageTab(await context.newPage(), () => context.close());
      },
      close: () => browser.close(),
    };
  }
  if (name === 'firefox') {
    const browser = await launchFirefox();
    return {
      name,
      version: await browser.version(),
      async newTab({ userAgent } = {}) {
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        await page.setViewport(PHONE);
        if (userAgent) await page.setUserAgent(userAgent);
        return pageTab(page, () => context.close());
      },
      close: () => browser.close(),
    };
  }
  if (name === 'webkit') {
    const webkit = await startWebKit();
    let version = null;
    return {
      name,
      get version() {
        return version;
      },
      async newTab({ userAgent } = {}) {
        const driver = await webkit.session({ userAgent });
        version ??= `WebKitGTK ${(await driver.getCapabilities()).get('browserVersion')}`;
        await driver.manage().window().setRect(PHONE);
        return tab({
          goto: (url) => driver.get(url),
          click: async (selector) => (await driver.findElement(By.css(selector))).click(),
          // W3C Execute Script awaits a returned promise, as the other two clients do.
          evaluate: (fn, arg) => driver.executeScript(`return (${fn})(arguments[0]);`, arg),
          reload: () => driver.navigate().refresh(),
          close: () => driver.quit(),
        });
      },
      close: () => webkit.close(),
    };
  }
  throw new Error(`unknown engine ${name}`);
}

/** Playwright's and Puppeteer's pages agree on these. */
function pageTab(page, close) {
  return tab({
    goto: (url) => page.goto(url),
    click: (selector) => page.click(selector),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    reload: () => page.reload(),
    close,
  });
}

/** The engine's primitives plus waitFor, which polls a page function until it returns a truthy value. */
function tab(primitives) {
  return {
    ...primitives,
    async waitFor(fn, arg, { timeout = 20_000, what = String(fn) } = {}) {
      const deadline = Date.now() + timeout;
      let last;
      for (;;) {
        try {
          const value = await primitives.evaluate(fn, arg);
          if (value) return value;
          last = value;
        } catch (err) {
          last = err; // a navigation replaced the page between two polls: try again
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
