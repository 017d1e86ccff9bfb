// Whether the links of a set of Markdown documents lead somewhere: the repository's READMEs as GitHub shows them,
// and the package's as npm and node_modules show them. Headings are found the way GitHub anchors them.
import { anchors, links } from '../scripts/markdown.mjs';

/**
 * The links of `docs` (file name → Markdown) that do not resolve, as "file: target (why)". A relative target must
 * name the document itself or a file that `exists(file)`, and its #anchor a heading of that file when it is one of
 * `docs`; an absolute one is left to `absolute(url)`, which returns why it does not resolve, or null.
 */
export function brokenLinks(docs, exists, absolute = () => null) {
  const headings = new Map(Object.entries(docs).map(([file, text]) => [file, anchors(text)]));
  const broken = [];
  for (const [from, text] of Object.entries(docs)) {
    for (const target of links(text)) {
      const why = /^[a-z][a-z\d+.-]*:/i.test(target) ? absolute(target) : relative(target, from, headings, exists);
      if (why) broken.push(`${from}: ${target} (${why})`);
    }
  }
  return broken;
}

function relative(target, from, headings, exists) {
  const [path, anchor] = target.split('#');
  const file = path || from;
  if (file !== from && !exists(file)) return `no file ${file}`;
  if (anchor === undefined || !headings.has(file)) return null;
  return headings.get(file).has(anchor) ? null : `no heading #${anchor} in ${file}`;
}
