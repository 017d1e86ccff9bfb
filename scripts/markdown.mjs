// Reading this project's Markdown as GitHub and npm render it: heading anchors, inline links, fenced code blocks, and
// the user guide part of the README. Enough for its own READMEs (fenced code, inline links), not a general parser.

const FENCE = /^\s*```/;
/** An inline link's target: `[text](target)`, without a title or spaces (the only form the READMEs use). */
const LINK = /\]\(([^()\s]+)\)/g;
/** The markers around the README's user guide; any text may follow the marker's name inside the comment. */
const GUIDE_MARKER = /<!-- npm-readme:(begin|end)\b[^>]*-->\n?/g;

/** Calls `visit(line, inFence)` for each line: whether it is inside a fenced code block (its fences count as inside). */
function eachLine(markdown, visit) {
  let inFence = false;
  return markdown.split('\n').map((line) => {
    const fence = FENCE.test(line);
    if (fence) inFence = !inFence;
    return visit(line, inFence || fence);
  });
}

/** GitHub's anchor for a heading's text: lower case, punctuation and symbols dropped, spaces as hyphens. */
export function slug(heading) {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a document's headings, a repeated one numbered as GitHub does (`x`, `x-1`, …). */
export function anchors(markdown) {
  const seen = new Map();
  const found = new Set();
  eachLine(markdown, (line, code) => {
    const heading = !code && /^#{1,6} (.+)$/.exec(line);
    if (!heading) return;
    const base = slug(heading[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    found.add(n ? `${base}-${n}` : base);
  });
  return found;
}

/** The document with each inline link's target outside code blocks replaced by `map(target)`. */
export function mapLinks(markdown, map) {
  return eachLine(markdown, (line, code) =>
    code ? line : line.replace(LINK, (_, target) => `](${map(target)})`),
  ).join('\n');
}

/** The inline link targets outside code blocks, in order. */
export function links(markdown) {
  const found = [];
  mapLinks(markdown, (target) => {
    found.push(target);
    return target;
  });
  return found;
}

/** The fenced code blocks, each as its lines from the opening fence to the closing one, indentation included. */
export function codeBlocks(markdown) {
  const blocks = [];
  let open = null;
  eachLine(markdown, (line, code) => {
    if (!code) return;
    if (open === null) {
      open = [line];
      return;
    }
    open.push(line);
    if (FENCE.test(line)) {
      blocks.push(open.join('\n'));
      open = null;
    }
  });
  return blocks;
}

/**
 * The README's user guide: the text between each `<!-- npm-readme:begin … -->` and the next
 * `<!-- npm-readme:end -->`, markers removed. Throws when there is none or they do not pair up, so that a README edit
 * cannot silently ship an empty or a whole README.
 */
export function userGuide(markdown) {
  const parts = [];
  let from = null;
  for (const marker of markdown.matchAll(GUIDE_MARKER)) {
    const begins = marker[1] === 'begin';
    if (begins === (from !== null)) {
      throw new Error(`README.md: npm-readme:${marker[1]} at offset ${marker.index} without its pair`);
    }
    if (begins) from = marker.index + marker[0].length;
    else {
      parts.push(markdown.slice(from, marker.index));
      from = null;
    }
  }
  if (from !== null) throw new Error('README.md: npm-readme:begin without npm-readme:end');
  if (!parts.length) throw new Error('README.md has no npm-readme:begin … npm-readme:end markers: no user guide');
  return parts.join('\n');
}
