// The npm package's READMEs. README.md is the user guide part of the repository README (install, quick start,
// recipes, support, API, errors, backend contract, sending, size), not the demo server and development material;
// README.zh-CN.md, the same guide in Chinese, ships beside it. A link that would not resolve inside the package (a
// section or file only the repository has) is made absolute to the repository named in Cargo.toml.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anchors, mapLinks, userGuide } from './markdown.mjs';

/** Writes pkg/README.md and pkg/README.zh-CN.md from the repository's README.md and README.zh-CN.md. */
export function writePackageReadmes(root, pkgDir) {
  const read = (file) => readFileSync(join(root, file), 'utf8');
  const repository = /^repository = "(https:\/\/[^"]+)"$/m.exec(read('Cargo.toml'))?.[1];
  if (!repository) throw new Error('Cargo.toml has no repository = "https://…": the package READMEs link to it');
  const guides = { 'README.md': userGuide(read('README.md')), 'README.zh-CN.md': read('README.zh-CN.md') };
  const packed = new Map(Object.entries(guides).map(([file, text]) => [file, anchors(text)]));
  for (const [file, text] of Object.entries(guides)) {
    writeFileSync(
      join(pkgDir, file),
      mapLinks(text, (target) => packageLink(target, file, packed, repository)),
    );
  }
}

/** `target` as linked from `from` in the package: kept when it resolves among the packed files, else absolute. */
function packageLink(target, from, packed, repository) {
  if (/^[a-z][a-z\d+.-]*:/i.test(target)) return target;
  const hash = target.indexOf('#');
  const file = (hash < 0 ? target : target.slice(0, hash)) || from;
  const anchor = hash < 0 ? null : target.slice(hash + 1);
  if (packed.get(file) && (anchor === null || packed.get(file).has(anchor))) return target;
  const page = file === 'README.md' ? repository : `${repository}/blob/HEAD/${file}`;
  return anchor === null ? page : `${page}#${anchor}`;
}
