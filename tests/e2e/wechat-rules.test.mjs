// www/lib/wechat-rules.mjs against the package: each value of the shared vectors goes through the demo's rule and
// through the package's own check (its Node entry), and both must give the answer the vectors expect. Needs the
// built package.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as rules from '../../www/lib/wechat-rules.mjs';
import { APPID, PKG_DIR, TEMPLATE_A, requirePackage } from './harness.mjs';

requirePackage();
const pkg = await import(pathToFileURL(path.join(PKG_DIR, 'node.js')).href);

const LINK = { appid: APPID, scene: 1000, templateId: TEMPLATE_A, redirectUrl: 'https://a.example/cb', reserved: 'r1' };
const SEND = { openid: 'oUser_1', templateId: 'TPL_1', scene: 1000, title: 't', content: 'c' };
const link = (over) => pkg.buildLink({ ...LINK, ...over });
const send = (over) => pkg.buildSendRequest({ ...SEND, ...over });
const miniprogram = (over) => send({ miniprogram: { appid: APPID, ...over } });
/** The package reading `text` as a callback's scene. */
const sceneText = (text) =>
  pkg.parseCallback(`?template_id=T&action=cancel&scene=${encodeURIComponent(text)}&reserved=r`);

// The values are the shared vectors (tests/vectors/wechat-rules.json), the ones the crate's own tests read;
// {"js": "NaN"} and the like stand for JS values JSON cannot hold.
const VECTORS = JSON.parse(readFileSync(new URL('../vectors/wechat-rules.json', import.meta.url), 'utf8'));
const JS_VALUES = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0, null: null, true: true, false: false };
const decode = (v) => (v !== null && typeof v === 'object' ? JS_VALUES[v.js] : v);

// rule: the demo's; vector: the shared values; checks: the package's, each with the error code it throws for a
// refused value.
const TABLE = [
  {
    rule: 'isAppId',
    vector: 'appid',
    checks: [
      [(v) => link({ appid: v }), 'invalid_appid'],
      [(v) => miniprogram({ appid: v }), 'invalid_miniprogram'],
    ],
  },
  {
    rule: 'isTemplateId',
    vector: 'templateId',
    checks: [
      [(v) => link({ templateId: v }), 'invalid_template_id'],
      [(v) => send({ templateId: v }), 'invalid_template_id'],
    ],
  },
  { rule: 'isReserved', vector: 'reserved', checks: [[(v) => link({ reserved: v }), 'invalid_reserved']] },
  // No demo rule for these two any more (the demo's backend is the package's own endpoint): the package alone.
  { rule: null, vector: 'openid', checks: [[(v) => send({ openid: v }), 'invalid_openid']] },
  {
    rule: null,
    vector: 'scene',
    checks: [
      [(v) => link({ scene: v }), 'invalid_scene'],
      [(v) => send({ scene: v }), 'invalid_scene'],
    ],
  },
  { rule: 'isSceneText', vector: 'sceneText', checks: [[sceneText, 'invalid_param']] },
  { rule: 'isTitle', vector: 'title', checks: [[(v) => send({ title: v }), 'invalid_title']] },
  { rule: 'isContent', vector: 'content', checks: [[(v) => send({ content: v }), 'invalid_content']] },
  { rule: 'isColor', vector: 'color', checks: [[(v) => send({ color: v }), 'invalid_color']] },
  {
    rule: 'isPagepath',
    vector: 'pagepath',
    checks: [[(v) => miniprogram({ pagepath: v }), 'invalid_miniprogram']],
  },
  {
    rule: 'httpUrl',
    vector: 'httpUrl',
    checks: [
      [(v) => send({ url: v }), 'invalid_url'],
      [(v) => link({ redirectUrl: v }), 'invalid_redirect_url'],
    ],
  },
].map((row) => ({
  ...row,
  valid: VECTORS[row.vector].valid.map(decode),
  invalid: VECTORS[row.vector].invalid.map(decode),
}));

/** What the package says of a value: false when the check throws its code or answers false. */
function packageAccepts(check, code, value) {
  try {
    return check(value) !== false;
  } catch (err) {
    assert.equal(err.name, 'SubscribeError', `${String(err)}`);
    assert.equal(err.code, code, `${JSON.stringify(value)}: ${err.message}`);
    return false;
  }
}

const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const demoAccepts = (name, value, expected) => {
  if (name === null) return expected;
  const answer = rules[name](value);
  return name === 'httpUrl' ? answer !== null : answer;
};

describe('wechat-rules.mjs agrees with the package', () => {
  for (const { rule, vector, checks, valid, invalid } of TABLE) {
    test(`${rule ?? vector}: ${valid.length} valid, ${invalid.length} invalid values`, () => {
      if (rule) assert.equal(typeof rules[rule], 'function', `wechat-rules.mjs exports ${rule}`);
      for (const [values, expected] of [
        [valid, true],
        [invalid, false],
      ]) {
        for (const value of values) {
          assert.equal(demoAccepts(rule, value, expected), expected, `the demo's ${rule}(${show(value)})`);
          for (const [check, code] of checks) {
            assert.equal(packageAccepts(check, code, value), expected, `the package on ${show(value)} (${code})`);
          }
        }
      }
    });
  }

  test('every rule of the vectors is checked here, and is the rule of a crate test', () => {
    const rules = Object.keys(VECTORS).filter((key) => !['about', 'divergences'].includes(key));
    assert.deepEqual(TABLE.map((row) => row.vector).sort(), rules.sort());
  });

  test('the table covers every rule the module exports', () => {
    const exported = Object.keys(rules).filter((name) => typeof rules[name] === 'function');
    assert.deepEqual(
      exported.sort(),
      TABLE.map((row) => row.rule)
        .filter(Boolean)
        .sort(),
    );
  });

  test('SCENE_MAX is the largest scene the package takes', () => {
    assert.ok(link({ scene: rules.SCENE_MAX }));
    assert.throws(() => link({ scene: rules.SCENE_MAX + 1 }), { code: 'invalid_scene' });
  });
});
