// Step 2 in Chromium on a WeChat phone: after a grant, write the message on the landing page, send it
// through the demo backend (/api/send → the send API simulator), and see it in the simulated WeChat
// inbox, in the right place; a second send is refused with 43101 and its explanation. Each scenario
// checks the screen AND the stored state (the simulated WeChat's permits and messages, the send log).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  PKG_DIR,
  TEMPLATE_A,
  TEMPLATE_B,
  decide,
  e2eSuite,
  openInbox,
  openSubscribePage,
  screenshot,
  sendMessage,
  shownMessages,
  subscribe,
  waitForResult,
} from './harness.mjs';

const suite = e2eSuite({ before, after });
const refused = { refusedSends: true };
let explain;
before(async () => {
  ({ explainErrcode: explain } = await import(pathToFileURL(path.join(PKG_DIR, 'node.js')).href));
});

/** Subscribe → Allow → the landing page with its send card. */
async function grantOnScreen(page, base, { scene, template = TEMPLATE_A } = {}) {
  await openSubscribePage(page, base, scene === undefined ? {} : { scene });
  await subscribe(page, { template, scene });
  const result = await decide(page, 'confirm');
  assert.equal(result.state, 'granted');
  assert.equal(result.delivered, 'true');
  await page.getByTestId('send-card').waitFor();
  return result;
}

describe('send the message', () => {
  test('consent → send → one message in Service Notifications; a second send → 43101 explained, nothing new', async () => {
    await suite.scenario(refused, async ({ page, base, sink, wechat }) => {
      const granted = await grantOnScreen(page, base, { scene: 1000 });
      assert.equal(await page.getByTestId('send-card').getAttribute('data-scene'), '1000');

      // Live character counts, in characters (code points) like the package and WeChat.
      const title = page.getByTestId('send-title');
      await title.fill('Parcel shipped!');
      assert.equal(await page.getByTestId('title-count').textContent(), '15 / 15');
      assert.equal(await page.getByTestId('title-count').getAttribute('data-over'), 'false');
      await title.fill('Parcel has shipped');
      assert.equal(await page.getByTestId('title-count').textContent(), '18 / 15');
      assert.equal(await page.getByTestId('title-count').getAttribute('data-over'), 'true');
      await page.getByTestId('send-content').fill('x'.repeat(201));
      assert.equal(await page.getByTestId('content-count').textContent(), '201 / 200');

      // Too long: the package's typed error, shown; nothing reaches WeChat.
      const tooLong = await sendMessage(page, { content: 'Short enough.' });
      assert.equal(tooLong.state, 'error');
      assert.equal(tooLong.errname, 'invalid_title');
      assert.match(tooLong.errmsg, /title must be 1 to 15 characters/);
      assert.equal(await wechat.calls(), 0);

      await page.getByTestId('send-content').fill('');
      await page.getByTestId('send-content').pressSequentially('Parcel 1042 left our warehouse today.');
      assert.equal(await page.getByTestId('content-count').textContent(), '37 / 200');
      await title.fill('Parcel shipped');
      await page.locator('#send-form label:has([data-testid="color-blue"])').click();
      await page.getByTestId('send-url').fill('https://example.com/orders/1042');
      assert.equal(await page.getByTestId('title-count').textContent(), '14 / 15');
      await screenshot(page, '12-send-form');

      const sent = await sendMessage(page);
      assert.equal(sent.state, 'sent');
      assert.equal(sent.errcode, '0');
      assert.equal(sent.errname, 'ok');
      assert.equal(sent.source, 'wechat');
      assert.equal(sent.title, 'Sent: it is in the WeChat inbox');
      assert.equal(sent.meaning, explain(0).meaning);
      await page.locator('[data-testid="grant-list"] [data-used="true"]').waitFor({ state: 'attached' });

      // Stored: one message for this openid, in Service Notifications; the permit and the grant used.
      const [message, ...more] = await wechat.messages();
      assert.equal(more.length, 0);
      assert.deepEqual(
        [
          message.openid,
          message.template_id,
          message.scene,
          message.title,
          message.content,
          message.color,
          message.url,
          message.placement,
        ],
        [
          granted.openid,
          TEMPLATE_A,
          '1000',
          'Parcel shipped',
          'Parcel 1042 left our warehouse today.',
          '#173177',
          'https://example.com/orders/1042',
          'notifications',
        ],
      );
      assert.deepEqual(
        (await wechat.permits()).map((p) => [p.scene, p.permits]),
        [['1000', 0]],
      );
      const [grant] = await sink.grants();
      assert.deepEqual(
        (await wechat.sends()).map((s) => [s.reserved, s.errcode, s.consumed]),
        [[grant.reserved, 0, true]],
      );
      assert.equal(await wechat.calls(), 1);

      // The second send of the same grant: refused by the demo backend itself, explained.
      const again = await sendMessage(page, { title: 'One more thing', content: 'A second message.' });
      assert.equal(again.state, 'refused');
      assert.equal(again.errcode, '43101');
      assert.equal(again.errname, 'user_refused');
      assert.equal(again.source, 'local');
      assert.equal(again.title, 'Not sent: no permit left');
      assert.equal(again.meaning, explain(43101).meaning);
      assert.equal(again.action, `What to do: ${explain(43101).action}`);
      assert.match(again.sourceText, /WeChat was not called/);
      await screenshot(page, '13-send-refused-43101');
      assert.equal((await wechat.messages()).length, 1, 'no new message');
      assert.equal(await wechat.calls(), 1, 'no API call spent on it');
      assert.equal((await wechat.sends()).length, 1);

      // The inbox, through the page's own link.
      await page.getByTestId('open-inbox').click();
      await page.getByTestId('inbox').waitFor();
      assert.equal(
        await page.getByTestId('inbox').getAttribute('data-openid'),
        granted.openid,
        'the same simulated user',
      );
      assert.equal(await page.getByTestId('follow-toggle').getAttribute('aria-checked'), 'false');
      assert.equal(await page.getByTestId('chat-notifications').getAttribute('data-count'), '1');
      assert.equal(await page.getByTestId('chat-account').getAttribute('data-count'), '0');
      assert.equal(await page.getByTestId('chat-notifications-preview').textContent(), 'Parcel shipped');
      await screenshot(page, '14-inbox');
      await page.getByTestId('chat-notifications').click();
      await page.getByTestId('thread').waitFor();
      assert.deepEqual(await shownMessages(page), [
        {
          title: 'Parcel shipped',
          content: 'Parcel 1042 left our warehouse today.',
          color: 'rgb(23, 49, 119)',
          scene: '1000',
          link: 'url',
          href: 'https://example.com/orders/1042',
        },
      ]);
      await screenshot(page, '15-inbox-service-notifications');
    });
  });

  test('a follower gets the message in the Service Account chat', async () => {
    await suite.scenario(async ({ page, base, wechat }) => {
      await openInbox(page, base);
      await page.getByTestId('follow-toggle').click();
      await page.locator('[data-testid="inbox"][data-following="true"]').waitFor();
      assert.match(await page.getByTestId('follow-hint').textContent(), /arrive in its chat/);
      const openid = await page.getByTestId('inbox').getAttribute('data-openid');
      assert.deepEqual((await wechat.state()).users, [{ openid, following: true }]);

      await openSubscribePage(page, base, { scene: 2000 });
      await subscribe(page, { template: TEMPLATE_B });
      assert.equal(await page.getByTestId('consent-placement').getAttribute('data-following'), 'true');
      const granted = await decide(page, 'confirm');
      assert.equal(granted.openid, openid);
      await page.getByTestId('send-card').waitFor();
      const sent = await sendMessage(page, {
        title: 'Table ready',
        content: 'Your table for two is ready.',
        color: '#FA5151',
      });
      assert.equal(sent.errcode, '0');

      const [message] = await wechat.messages();
      assert.deepEqual([message.placement, message.template_id, message.scene], ['account', TEMPLATE_B, '2000']);
      await openInbox(page, base);
      assert.equal(await page.getByTestId('chat-account').getAttribute('data-count'), '1');
      assert.equal(await page.getByTestId('chat-notifications').getAttribute('data-count'), '0');
      await page.getByTestId('chat-account').click();
      await page.getByTestId('thread').waitFor();
      assert.deepEqual(await shownMessages(page), [
        {
          title: 'Table ready',
          content: 'Your table for two is ready.',
          color: 'rgb(250, 81, 81)',
          scene: '2000',
          link: null,
          href: null,
        },
      ]);
      await screenshot(page, '16-inbox-service-account-chat');
    });
  });

  test('consent twice under the same scene before sending: one permit; the second send is 43101 from WeChat', async () => {
    await suite.scenario(refused, async ({ page, base, sink, wechat }) => {
      const first = await grantOnScreen(page, base, { scene: 1000 });
      const second = await grantOnScreen(page, base, { scene: 1000 });
      assert.equal(second.openid, first.openid);
      const grants = await sink.grants();
      assert.equal(grants.length, 2, 'two grants');
      assert.notEqual(grants[0].reserved, grants[1].reserved);
      assert.deepEqual(
        (await wechat.permits()).map((p) => [p.scene, p.permits, p.authorizations]),
        [['1000', 1, 2]],
        'one permit, not two',
      );

      const sent = await sendMessage(page, { title: 'First', content: 'The one message scene 1000 allows.' });
      assert.equal(sent.errcode, '0');

      // Back to the first grant's landing page (its cleaned address replays the callback), and send from there.
      for (let i = 0; i < 3; i += 1) await page.goBack();
      const restored = await waitForResult(page);
      assert.equal(restored.state, 'granted');
      assert.equal(restored.replayed, 'true');
      await page.getByTestId('send-card').waitFor();
      const refusedByWeChat = await sendMessage(page, { title: 'Second', content: 'Scene 1000 has no permit left.' });
      assert.equal(refusedByWeChat.state, 'refused');
      assert.equal(refusedByWeChat.errcode, '43101');
      assert.equal(refusedByWeChat.source, 'wechat', 'the backend could not know: WeChat refused it');
      assert.match(refusedByWeChat.errmsg, /^user refuse to accept the msg rid: /);
      assert.equal(refusedByWeChat.meaning, explain(43101).meaning);
      await screenshot(page, '17-send-refused-43101-by-wechat');

      assert.equal((await wechat.messages()).length, 1);
      assert.equal(await wechat.calls(), 2);
      assert.deepEqual(
        (await wechat.sends()).map((s) => [s.reserved, s.errcode, s.consumed]),
        [
          [grants[1].reserved, 0, true],
          [grants[0].reserved, 43101, true],
        ],
      );
      await openInbox(page, base);
      assert.equal(await page.getByTestId('chat-notifications').getAttribute('data-count'), '1');
    });
  });

  test('a second scene is a second permit: two messages', async () => {
    await suite.scenario(async ({ page, base, wechat }) => {
      await grantOnScreen(page, base, { scene: 1000 });
      assert.equal((await sendMessage(page, { title: 'Shipped', content: 'Scene 1000: shipped.' })).errcode, '0');

      await page.getByTestId('subscribe-another').click();
      await page.locator('body[data-ready="true"]').waitFor();
      assert.equal(await page.getByTestId('scene').inputValue(), '1001');
      await subscribe(page);
      const second = await decide(page, 'confirm');
      assert.equal(second.scene, '1001');
      await page.getByTestId('send-card').waitFor();
      assert.equal(
        (await sendMessage(page, { title: 'Delivered', content: 'Scene 1001: delivered.', color: '#07C160' })).errcode,
        '0',
      );

      assert.deepEqual(
        (await wechat.permits()).map((p) => [p.scene, p.permits]),
        [
          ['1000', 0],
          ['1001', 0],
        ],
      );
      assert.deepEqual(
        (await wechat.messages()).map((m) => [m.scene, m.title, m.placement]),
        [
          ['1000', 'Shipped', 'notifications'],
          ['1001', 'Delivered', 'notifications'],
        ],
      );
      await openInbox(page, base, 'notifications');
      assert.deepEqual(
        (await shownMessages(page)).map((m) => [m.scene, m.title, m.color]),
        [
          ['1000', 'Shipped', 'rgb(25, 25, 25)'],
          ['1001', 'Delivered', 'rgb(7, 193, 96)'],
        ],
      );
      await page.getByTestId('inbox-back').click();
      await page.getByTestId('inbox').waitFor();
      assert.equal(await page.getByTestId('chat-notifications-badge').textContent(), '2');
    });
  });
});
