// www/lib/wechat-rules.mjs against the package: each value of the table goes through the demo's rule and
// through the package's own check (its Node entry), and both must give the answer the table expects. The
// values are the crate's test vectors (src/params.rs, src/send.rs, src/redirect.rs, src/callback.rs) and
// the edges around them. Needs the built package.
import assert from 'node:assert/strict';
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

const x = (n, c = 'a') => c.repeat(n);
const FIFTEEN = '一二三四五六七八九十一二三四五';

// rule: the demo's; checks: the package's, each with the error code it throws for a refused value.
const TABLE = [
  {
    rule: 'isAppId',
    checks: [
      [(v) => link({ appid: v }), 'invalid_appid'],
      [(v) => miniprogram({ appid: v }), 'invalid_miniprogram'],
    ],
    valid: ['wxaba38c7f163da69b', 'wxABA38C7F163DA69B', 'wx0123456789abcdef', 'wxAbA38c7F163dA69B'],
    invalid: [
      '',
      'wx',
      'wxaba38c7f163da69',
      'wxaba38c7f163da69b0',
      'wxaba38c7f163da69g',
      'xwaba38c7f163da69b',
      'WXaba38c7f163da69b',
      'wxaba38c7f163da6 b',
      'wxaba38c7f163da6é',
      ' wxaba38c7f163da69b',
    ],
  },
  {
    rule: 'isTemplateId',
    checks: [
      [(v) => link({ templateId: v }), 'invalid_template_id'],
      [(v) => send({ templateId: v }), 'invalid_template_id'],
    ],
    valid: [TEMPLATE_A, 'a_b-c', 'T', x(64), x(65), x(128), x(128, 'Z')],
    invalid: ['', 'a b', 'a+b', 'a/b', 'é', 'a.b', x(129)],
  },
  {
    rule: 'isReserved',
    checks: [[(v) => link({ reserved: v }), 'invalid_reserved']],
    valid: ['test', 'r', x(64, 'Z9'), x(128)],
    invalid: ['', 'a-b', 'a_b', 'a b', 'a%20', 'é', x(129)],
  },
  {
    rule: 'isSceneText',
    checks: [[sceneText, 'invalid_param']],
    valid: ['0', '7', '1000', '9999', '10000'],
    invalid: ['', '-1', '+1', '1.0', ' 1', '10001', '99999', '100000', '1e3', '0x10', '01000', '00', 'abc'],
  },
  {
    rule: 'isTitle',
    checks: [[(v) => send({ title: v }), 'invalid_title']],
    valid: ['t', 'Order shipped', FIFTEEN, x(15), 'a b', '\u{1F600}'.repeat(15), '\uFEFF'],
    invalid: ['', '   ', `${FIFTEEN}六`, x(16), 'a\nb', 'a\0b', 'a\u0085b', '\u3000', '\u00A0', 7],
  },
  {
    rule: 'isContent',
    checks: [[(v) => send({ content: v }), 'invalid_content']],
    valid: ['c', 'line one\nline two', x(200, '字'), 'a b'],
    invalid: ['', ' \n ', x(201, '字'), 'a\u0007b', 'a\tb', 'a\r\nb', '\u2028'],
  },
  {
    rule: 'isColor',
    checks: [[(v) => send({ color: v }), 'invalid_color']],
    valid: ['#173177', '#A0b1C2', '#ffffff'],
    invalid: ['173177', '#17317', '#1731777', '#GGGGGG', 'red', '', ' #173177'],
  },
  {
    rule: 'isPagepath',
    checks: [[(v) => miniprogram({ pagepath: v }), 'invalid_miniprogram']],
    valid: ['index', 'index?foo=bar', 'pages/a/b?x=1&y=é', 'a\u007fb'],
    invalid: ['', 'a b', 'a\tb', 'a\nb', ' index'],
  },
  {
    rule: 'httpUrl',
    checks: [
      [(v) => send({ url: v }), 'invalid_url'],
      [(v) => link({ redirectUrl: v }), 'invalid_redirect_url'],
    ],
    valid: [
      'http://support.qq.com',
      'https://a.example.com/cb.html?from=x#/done',
      'http://127.0.0.1:8080/callback.html',
      'http://a.example/x?y=1',
      'HTTPS://Shop.Example.COM:8443/cb.html?x=1#/done',
      'https://@a.example/',
      'http:a.example/x',
    ],
    invalid: [
      '',
      '/order/42',
      '//example.com/cb',
      ' https://example.com/',
      'https://example.com/a b',
      'https://example.com/\t',
      'https://example.com/\x7f',
      'ftp://a.example/',
      'javascript:alert(1)',
      'data:text/html,hi',
      'https://u:p@a.example/',
      'https://user@example.com/',
      'https://:pw@example.com/',
      'https://exa mple.com/',
    ],
  },
];

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
const demoAccepts = (name, value) => {
  const answer = rules[name](value);
  return name === 'httpUrl' ? answer !== null : answer;
};

describe('wechat-rules.mjs agrees with the package', () => {
  for (const { rule, checks, valid, invalid } of TABLE) {
    test(`${rule}: ${valid.length} valid, ${invalid.length} invalid values`, () => {
      assert.equal(typeof rules[rule], 'function', `wechat-rules.mjs exports ${rule}`);
      for (const [values, expected] of [
        [valid, true],
        [invalid, false],
      ]) {
        for (const value of values) {
          assert.equal(demoAccepts(rule, value), expected, `the demo's ${rule}(${show(value)})`);
          for (const [check, code] of checks) {
            assert.equal(packageAccepts(check, code, value), expected, `the package on ${show(value)} (${code})`);
          }
        }
      }
    });
  }

  test('the table covers every rule the module exports', () => {
    const exported = Object.keys(rules).filter((name) => typeof rules[name] === 'function');
    assert.deepEqual(exported.sort(), TABLE.map((row) => row.rule).sort());
  });

  test('SCENE_MAX is the largest scene the package takes', () => {
    assert.ok(link({ scene: rules.SCENE_MAX }));
    assert.throws(() => link({ scene: rules.SCENE_MAX + 1 }), { code: 'invalid_scene' });
  });
});
