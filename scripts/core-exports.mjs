// The wasm core's exports that js/delivery.js is bound to, read from their one declaration (js/core.d.ts), for the
// build (which binds them) and the package test (which checks that users never see them).
import { readFileSync } from 'node:fs';

/** The members of `interface Core` in js/core.d.ts: the core's exports js/delivery.js is bound to, declared once. */
export function coreExports(dtsFile) {
  const body = /export interface Core \{([\s\S]*?)\n\}/.exec(readFileSync(dtsFile, 'utf8'))?.[1];
  const names = [...(body ?? '').matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]);
  if (!names.length) throw new Error(`${dtsFile} declares no interface Core with methods`);
  return names;
}
