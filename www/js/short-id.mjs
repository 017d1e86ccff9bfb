// Long IDs (template ids are 43 characters) shortened for display, the same on the demo's pages and on the
// consent page the server renders: both import this file.

/** The first and last six characters of an ID longer than 16, joined by "…"; a shorter one unchanged. */
export function short(id) {
  const s = String(id ?? '');
  return s.length > 16 ? `${s.slice(0, 6)}…${s.slice(-6)}` : s;
}
