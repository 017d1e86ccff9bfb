// The entry module's start: fetch, compile and instantiate the wasm once, at import (top-level await). Smaller than
// wasm-bindgen's own loader, which also takes module objects, bytes and deprecated arguments; this one takes the
// URL the entry names. scripts/build.mjs bundles it into the entry with wasm-bindgen's glue and js/delivery.js.

/**
 * Loads the module for the entry, and never rejects: a rejected static import kills every module that imports this
 * one (a whole React or Vue app), and WebKit (WeChat on iOS) shows no `error` or `unhandledrejection` for it. So a
 * load failure resolves too, as `{ api, ready }` where `api(f)` throws the typed error for every export, `ready`
 * rejects with it, and a `setTimeout` throws it once for the page's error monitoring (a window `error` event in
 * Chromium, Firefox and WebKit alike). On success `api` is the keeper's and `ready` resolved.
 */
export async function load(url, imports, finalize) {
  try {
    const { instance, module } = await instantiate(url, imports());
    const kept = keeper(module, imports, finalize);
    kept.start(instance);
    return { api: kept.api, ready: Promise.resolve() };
  } catch (thrown) {
    const [text, cause] = thrown?.text ? [thrown.text, thrown.cause] : [`not started (${thrown})${serve}`, thrown];
    const error = Object.assign(new Error(`cannot load ${url}: ${text}`, cause && { cause }), {
      name: 'SubscribeError',
      code: 'wasm_unavailable',
    });
    setTimeout(() => {
      throw error;
    });
    const ready = Promise.reject(error);
    // Handled here, so the rejection is only what the page makes of it.
    ready.catch(() => {});
    return {
      api: () => () => {
        throw error;
      },
      ready,
    };
  }
}

const see = (section) => ` (wx-subscribemsg README "${section}")`;
const serve = `: serve wx_subscribemsg_bg.wasm there, next to the bundle${see('Bundlers')}`;
const csp = see('Content Security Policy');
/** A cause with its fix, for the message of `wasm_unavailable`; `cause` is the engine's own error, if any. */
const fault = (text, cause) => ({ text, cause });

/**
 * Instantiates the module at `url`: compiled while it downloads, or, from a server that does not send
 * `application/wasm`, from its bytes once downloaded (slower, but it works). Fails with the cause named by what
 * the engine saw, each with its fix: the fetch itself (network, or CSP connect-src), the HTTP status, bytes that
 * are not wasm (an SPA fallback's index.html), a compilation refused by CSP (each engine's CompileError says so in
 * its own words; WebKit fires no `securitypolicyviolation` for it), any other CompileError (the engine lacks a
 * feature, or the file was cut short on its way), or anything else (a .wasm of another version fails to link).
 */
export async function instantiate(url, imports) {
  const response = fetch(url);
  // Opened now, while the module downloads and compiles off the main thread, rather than at the first call: the
  // first touch of a storage area loads it from the browser process.
  try {
    localStorage.length + sessionStorage.length;
  } catch {}
  let error;
  try {
    return await WebAssembly.instantiateStreaming(response, imports);
  } catch (streaming) {
    error = streaming;
  }
  const answer = await response.catch((failed) => {
    throw fault(`not fetched (${failed}): a network error, or CSP connect-src${csp}`, failed);
  });
  if (!answer.ok) throw fault(`${answer.status == 404 ? 'not found' : 'not served'} (HTTP ${answer.status})${serve}`);
  const type = answer.headers.get('Content-Type');
  if (!type?.startsWith('application/wasm')) {
    const bytes = await answer.arrayBuffer();
    if (String(new Uint8Array(bytes.slice(0, 4))) != '0,97,115,109') throw fault(`not wasm (${type})${serve}`);
    try {
      return await WebAssembly.instantiate(bytes, imports);
    } catch (compiling) {
      error = compiling;
    }
  }
  throw fault(
    /CSP|Content Security Policy/i.test(error?.message)
      ? `refused by CSP: add 'wasm-unsafe-eval' to script-src${csp}`
      : error instanceof WebAssembly.CompileError
        ? `not compiled (${error}): this browser lacks a wasm feature, or the file is damaged${see('Where it runs')}`
        : `not started (${error})${serve}`,
    error,
  );
}

/**
 * A stack overflow (Firefox names it InternalError): the page called at the JS stack's edge. It is never the browser's
 * answer to one of the module's calls, so the glue's catch imports throw it on (scripts/build.mjs) rather than let the
 * module read it as "not a URL" or "storage full", and the keeper starts a fresh instance after it.
 */
export const overflowed = (error) => error instanceof RangeError || error?.name === 'InternalError';

/**
 * Runs the module so that page code cannot kill it: `start(instance)` finishes wasm-bindgen's set-up (`finalize`)
 * with guarded exports, and `api(f)` wraps one of the glue's functions.
 * - Page code can throw through the module (a getter, an iterator, a stack at its limit): the wasm frames it unwinds
 *   never pop their shadow stack, and after a few hundred such throws every call would fail. Each export puts the
 *   stack pointer (`sp`, exported by scripts/wasm-post.mjs) back when an exception leaves it.
 * - A stack overflow can stop wasm code anywhere, even halfway through setting up one of its globals, and a trap
 *   means the instance's state can no longer be trusted: after either, the next call runs on a fresh instance of
 *   the same compiled module. The browser's storage and history hold the package's state; nothing is lost.
 */
export function keeper(module, imports, finalize) {
  let broken = false;
  const guarded = (exports) => {
    const sp = exports.sp;
    const out = {};
    for (const [name, value] of Object.entries(exports)) {
      out[name] =
        typeof value === 'function'
          ? (...args) => {
              const saved = sp.value;
              try {
                return value(...args);
              } catch (error) {
                sp.value = saved;
                if (overflowed(error) || error instanceof WebAssembly.RuntimeError) broken = true;
                throw error;
              }
            }
          : value;
    }
    return out;
  };
  const start = (instance) => finalize({ exports: guarded(instance.exports) }, module);
  return {
    start,
    api:
      (f) =>
      (...args) => {
        // Made at whatever depth the page calls from: a stack overflow halfway leaves `broken` set for the next call.
        if (broken) {
          start(new WebAssembly.Instance(module, imports()));
          broken = false;
        }
        return f(...args);
      },
  };
}
