// What a browser downloads from the package, raw and gzip -9: one definition for the build's report,
// the size test and the benchmark.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The goal of the size issue: entry module plus .wasm, each gzip -9, summed, on stable Rust with wasm-bindgen,
 * js-sys and web-sys. Not met yet: see README "Performance". */
export const GOAL_GZIP = 28 * 1024;

/** What the size test enforces: today's size and a little room, so nothing grows unseen. Lower it whenever a
 * change shrinks the module; each raise, and what it paid for, is a row of README "Size". */
export const LIMIT_GZIP = 32_512;

/** The files a page loads: the entry (wasm-bindgen's glue and the init call) and the module. */
export const SHIPPED = ['index.js', 'wx_subscribemsg_bg.wasm'];

export function gzipSize(bytes) {
  return gzipSync(bytes, { level: 9 }).length;
}

export function shippedSizes(pkgDir) {
  const files = SHIPPED.map((name) => {
    const bytes = readFileSync(join(pkgDir, name));
    return { name, raw: bytes.length, gzip: gzipSize(bytes) };
  });
  const sum = (k) => files.reduce((n, f) => n + f[k], 0);
  return { files, raw: sum('raw'), gzip: sum('gzip'), goal: GOAL_GZIP, limit: LIMIT_GZIP };
}
