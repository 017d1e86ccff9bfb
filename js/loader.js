// The entry module's start: fetch, compile and instantiate the wasm once, at import (top-level await). Smaller than
// wasm-bindgen's own loader, which also takes module objects, bytes and deprecated arguments; this one takes the
// URL the entry names. scripts/build.mjs bundles it into the entry with wasm-bindgen's glue and js/delivery.js.

/**
 * Instantiates the module at `url`: compiled while it downloads, or, from a server that does not send
 * `application/wasm`, from its bytes once downloaded (slower, but it works).
 */
export async function instantiate(url, imports) {
  const response = fetch(url);
  // Opened now, while the module downloads and compiles off the main thread, rather than at the first call: the
  // first touch of a storage area loads it from the browser process.
  try {
    localStorage.length + sessionStorage.length;
  } catch {}
  try {
    return await WebAssembly.instantiateStreaming(response, imports);
  } catch (error) {
    const answer = await response;
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    if (answer.headers.get('Content-Type')?.startsWith('application/wasm')) throw error;
    return WebAssembly.instantiate(await answer.arrayBuffer(), imports);
  }
}

/**
 * The error when the module cannot be loaded: a SubscribeError (code wasm_unavailable) that names the URL and the
 * fix, rather than a bare fetch error and a page whose button silently does nothing.
 */
export function unavailable(url, cause) {
  return Object.assign(
    new Error(
      `cannot load ${url} (${cause}): serve wx_subscribemsg_bg.wasm there, next to the bundle (wx-subscribemsg README, "Bundlers")`,
      { cause },
    ),
    { name: 'SubscribeError', code: 'wasm_unavailable' },
  );
}

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
                // A stack overflow (Firefox names it InternalError) or a trap.
                if (
                  error instanceof RangeError ||
                  error?.name === 'InternalError' ||
                  error instanceof WebAssembly.RuntimeError
                )
                  broken = true;
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
