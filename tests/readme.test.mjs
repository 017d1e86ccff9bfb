// The READMEs as documents: the Chinese guide (README.zh-CN.md) is the English user guide in Chinese, with the very
// code blocks the other tests run, in the same order and the same sections; and every link in either leads to a
// file or heading of this repository. What ships in the package is checked in tests/package.test.mjs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { codeBlocks, userGuide } from '../scripts/markdown.mjs';
import { brokenLinks } from './links.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file) => readFileSync(`${root}${file}`, 'utf8');
const english = read('README.md');
const chinese = read('README.zh-CN.md');

/** The heading levels outside code blocks, in order: the shape of a document's sections. */
const shape = (markdown) => {
  const levels = [];
  for (const [i, part] of markdown.split(/^\s*```.*$/m).entries()) {
    if (i % 2 === 0) levels.push(...[...part.matchAll(/^(#{1,6}) /gm)].map((m) => m[1].length));
  }
  return levels.join(' ');
};

test('README.zh-CN.md has the code blocks of the English user guide, byte for byte and in order', () => {
  const expected = codeBlocks(userGuide(english));
  const actual = codeBlocks(chinese);
  assert.ok(expected.length >= 10, `the English user guide has only ${expected.length} code blocks`);
  for (let i = 0; i < Math.max(expected.length, actual.length); i += 1) {
    assert.equal(actual[i], expected[i], `code block ${i + 1} of README.zh-CN.md differs from the English one`);
  }
});

test('README.zh-CN.md has the sections of the English user guide', () => {
  assert.equal(shape(chinese), shape(userGuide(english)));
});

test('README.md links to the Chinese guide at the top, and the Chinese guide back', () => {
  assert.match(english.split('\n## ')[0], /\]\(README\.zh-CN\.md\)/);
  assert.match(chinese.split('\n## ')[0], /\]\(README\.md\)/);
});

test("every link of README.md and README.zh-CN.md leads to this repository's files and headings", () => {
  const docs = { 'README.md': english, 'README.zh-CN.md': chinese };
  assert.deepEqual(
    brokenLinks(docs, (file) => existsSync(`${root}${file}`)),
    [],
  );
});
