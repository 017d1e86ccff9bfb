// A browser page's use of the package, type-checked by tests/types.test.mjs with --strict under moduleResolution
// bundler, node16 and nodenext. Each @ts-expect-error line must fail: tsc reports a directive with no error.
import {
  authorize,
  buildLink,
  handleCallback,
  isWeChat,
  parseCallback,
  ready,
  retryDeliveries,
  weChatVersion,
} from 'wx-subscribemsg';
import type { AuthorizeOptions, CallbackResult, RetryResult, SubscribeError } from 'wx-subscribemsg';

const options: AuthorizeOptions = {
  appid: 'wxaba38c7f163da69b',
  scene: 1000,
  templateId: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc',
  redirectUrl: `${location.origin}/subscribe/done.html`,
};
const link: string = authorize({ ...options, ttlSeconds: 300, requireWeChat: isWeChat() });
const pure: string = buildLink({ ...options, reserved: 'abc123' });
const version: string | null = weChatVersion(navigator.userAgent);
const params = parseCallback(location.search);
const action: 'confirm' | 'cancel' = params.action;

// @ts-expect-error scene is a number, not a string
authorize({ ...options, scene: '1000' });
// @ts-expect-error a misspelt option is refused, not ignored
authorize({ ...options, ttlSecond: 300 });
// @ts-expect-error redirectUrl is required
authorize({ appid: options.appid, scene: 1, templateId: options.templateId });
// @ts-expect-error credentials is a fetch credentials mode
handleCallback({ grantEndpoint: '/api/grants', credentials: 'always' });
// @ts-expect-error headers is HeadersInit, not a number
retryDeliveries({ grantEndpoint: '/api/grants', headers: 42 });

async function landing(): Promise<string> {
  const result: CallbackResult = await handleCallback({
    grantEndpoint: '/api/wechat/grants',
    headers: { 'X-CSRF-Token': 't' },
    credentials: 'same-origin',
    retries: 2,
  });
  // @ts-expect-error openid exists only on a granted result: narrow on status first
  const unnarrowed: string = result.openid;
  if (result.status === 'granted') {
    const openid: string = result.openid;
    const delivered: boolean = result.delivered;
    return `${openid} ${delivered} ${result.replayed}`;
  }
  const counts: RetryResult = await retryDeliveries({ grantEndpoint: '/api/wechat/grants' });
  return `${result.scene} ${counts.pending} ${unnarrowed}`;
}

const loaded: Promise<void> = ready;
// @ts-expect-error ready is a promise, not a function to call
ready();
loaded.catch((err: SubscribeError) => err.code === 'wasm_unavailable');

landing().catch((err: SubscribeError) => {
  const code: SubscribeError['code'] = err.code;
  // @ts-expect-error not one of the stable codes
  const unknown: SubscribeError['code'] = 'timeout';
  console.log(code, unknown, link, pure, version, action);
});
