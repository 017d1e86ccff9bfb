// The browsers the tests and the bench drive, one launcher per engine WeChat's pages run in, all from Debian
// packages (browser downloads by npm installers fail offline; scripts/setup.sh installs these):
// - Chromium (Android's XWeb and WebView are Chromium forks) through playwright-core;
// - WebKit (iOS WeChat is WebKit) as WebKitGTK's MiniBrowser, through WebKitWebDriver and selenium-webdriver, on
//   a private X display: MiniBrowser has no headless mode;
// - Firefox ESR through puppeteer-core, which speaks WebDriver BiDi to it directly (no geckodriver).
// The one place the launch flags live: the e2e harness, the quickstart test and the bench import them from here.
import { spawn } from 'node:child_process';
import net from 'node:net';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH || '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

// Without the background-networking flags the closed network refuses many connections at each start;
// --no-sandbox because the tests run as root. Playwright adds --headless itself.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium, headless: a playwright-core Browser. */
export async function launchChromium(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

/** Firefox ESR, headless: a puppeteer-core Browser. */
export async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
}

/**
 * WebKitWebDriver on a private Xvfb display. Returns { session({ userAgent }), close() }: each session is a new
 * MiniBrowser (a selenium-webdriver WebDriver) with its own storage and cookies.
 */
export async function startWebKit() {
  const { Builder } = await import('selenium-webdriver');
  const display = await startXvfb();
  let driver;
  try {
    const port = await freePort();
    driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], {
      env: { ...process.env, DISPLAY: display.name },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    driver.stderr.setEncoding('utf8').on('data', (chunk) => {
      log = (log + chunk).slice(-4000);
    });
    let failure = null;
    driver.once('error', (err) => {
      failure = `cannot start ${WEBKIT_DRIVER} (apt-get install webkit2gtk-driver): ${err.message}`;
    });
    driver.once('exit', (code) => {
      failure ??= `${WEBKIT_DRIVER} exited with ${code}:\n${log}`;
    });
    await untilListening(port, () => failure);
    const stopDriver = exited(driver);
    return {
      async session({ userAgent } = {}) {
        return new Builder()
          .usingServer(`http://127.0.0.1:${port}`)
          .withCapabilities({
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': {
              binary: MINIBROWSER,
              args: ['--automation', ...(userAgent ? [`--user-agent=${userAgent}`] : [])],
            },
          })
          .build();
      },
      async close() {
        driver.kill('SIGTERM');
        await stopDriver;
        await display.close();
      },
    };
  } catch (err) {
    driver?.kill('SIGTERM');
    await display.close();
    throw err;
  }
}

/** Xvfb on a display it picks itself (-displayfd): no race with another run choosing the same number. */
async function startXvfb() {
  const server = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const gone = exited(server);
  let log = '';
  server.stderr.setEncoding('utf8').on('data', (chunk) => {
    log = (log + chunk).slice(-4000);
  });
  const number = await new Promise((resolve, reject) => {
    let text = '';
    server.stdio[3].setEncoding('utf8').on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.trim());
    });
    server.once('error', (err) => reject(new Error(`cannot start Xvfb (apt-get install xvfb): ${err.message}`)));
    gone.then((code) => reject(new Error(`Xvfb exited with ${code}:\n${log}`)));
  });
  return {
    name: `:${number}`,
    async close() {
      server.kill('SIGTERM');
      await gone;
    },
  };
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', resolve);
  });
}

/** A loopback port nothing listens on now. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until the driver accepts connections on `port` (it prints nothing when ready). */
async function untilListening(port, failure, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (failure()) throw new Error(failure());
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${WEBKIT_DRIVER} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
