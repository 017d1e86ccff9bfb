// The entry module's start: fetch, compile and instantiate the wasm once, at import (top-level await). Smaller than
// wasm-bindgen's own loader, which also takes module objects, bytes and deprecated arguments; this one takes the
// URL the entry names. scripts/build.mjs bundles it into the entry with wasm-bindgen's glue and js/delivery.js.

/**
 * Instantiates the module at `url`: compiled while it downloads, or, from a server that does not send
 * `application/wasm`, from its bytes once downloaded (slower, but it works).
 */
export async function instantiate(url, imports) {
  const response = fetch(url);
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
