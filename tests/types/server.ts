// A Node server's use of the package, type-checked by tests/types.test.mjs with --strict and lib ["es2022"] only
// (no DOM) under moduleResolution bundler, node16 and nodenext. Each @ts-expect-error line must fail.
import { buildLink, buildSendRequest, explainErrcode, isWeChat, parseCallback, weChatVersion } from 'wx-subscribemsg';
import type { ErrcodeExplanation, SendOptions, SendRequestBody, SubscribeError } from 'wx-subscribemsg';
// The browser's functions resolve on a server too (a page rendered there imports them), but only throw there.
import { authorize, handleCallback, retryDeliveries } from 'wx-subscribemsg';

const grant = { openid: 'oUser_1', template_id: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc', scene: 1000 };
const message: SendOptions = {
  openid: grant.openid,
  templateId: grant.template_id,
  scene: grant.scene,
  title: '发货通知',
  content: '您的订单已发货',
  color: '#173177',
  miniprogram: { appid: 'wxaba38c7f163da69b', pagepath: 'pages/order' },
};
const body: SendRequestBody = buildSendRequest(message);
const scene: string = body.scene;
const why: ErrcodeExplanation = explainErrcode(43101);
const retry: 'done' | 'no' | 'later' | 'refresh_token' = why.retry;
const link: string = buildLink({
  appid: 'wxaba38c7f163da69b',
  scene: 1000,
  templateId: grant.template_id,
  redirectUrl: 'https://shop.example.com/done.html',
  reserved: 'abc123',
});
const callback = parseCallback('?template_id=T&action=cancel&scene=3&reserved=r');
// @ts-expect-error openid exists only on a confirm: narrow on action first
const unnarrowed: string = callback.openid;
const openid: string | null = callback.action === 'confirm' ? callback.openid : null;

// @ts-expect-error a misspelt option is refused, not ignored
buildSendRequest({ ...message, colour: '#173177' });
// @ts-expect-error scene is a number, not a string
buildSendRequest({ ...message, scene: '1000' });
// @ts-expect-error the errcode is a number
explainErrcode('43101');
// @ts-expect-error retry is one of four values
const wrong: 'always' = why.retry;

export function refusal(): SubscribeError['code'] | null {
  try {
    buildSendRequest({ ...message, title: '' });
    return null;
  } catch (err) {
    return (err as SubscribeError).code;
  }
}
export const used = [scene, retry, link, openid, unnarrowed, isWeChat('x'), weChatVersion('x'), wrong];

// Server rendering: the browser's functions throw (or reject with) browser_only, which their types say.
export async function rendered(): Promise<never> {
  // @ts-expect-error on a server handleCallback() only rejects (browser_only): there is no result to read
  const status = (await handleCallback({ grantEndpoint: '/api/grants' })).status;
  void retryDeliveries({ grantEndpoint: '/api/grants' });
  const url: never = authorize({ appid: 'wxaba38c7f163da69b' });
  return [status, url] as never;
}

// The receiving half: the endpoint in both forms, the stores, the parser, with lib es2022 only.
import {
  createGrantHandler,
  createGrantListener,
  migrate,
  migrationSql,
  openFileStore,
  parseGrant,
  pgStore,
} from 'wx-subscribemsg';
import type { Claim, Grant, GrantHandlerOptions, GrantStore, StoredGrant } from 'wx-subscribemsg';

export async function receiving(pool: {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}) {
  await migrate(pool);
  const sql: string = migrationSql('grants');
  const store: GrantStore = process_env_database ? pgStore({ client: pool }) : await openFileStore('data/grants.jsonl');
  const options: GrantHandlerOptions = {
    appid: 'wxaba38c7f163da69b',
    templateIds: ['TPL_1'],
    store,
    authorize: (grant: Grant) => grant.openid !== 'oBlocked',
    cors: { origins: ['https://shop.example.com'] },
  };
  const handle = createGrantHandler(options);
  const listener = createGrantListener(options);
  const grant: Grant = parseGrant({ appid: 'wxaba38c7f163da69b' }, 'abc', {
    appid: 'wxaba38c7f163da69b',
    templateIds: ['TPL_1'],
  });
  const { created, grant: stored }: { created: boolean; grant: StoredGrant } = await store.insert(grant);
  const claims: Claim[] = await store.claim({ leaseMs: 30_000, limit: 10 });
  const done: boolean = await store.finish(claims[0], { state: 'sent', errcode: 0 });
  // @ts-expect-error a claim ends in one of the five outcomes
  await store.finish(claims[0], { state: 'lost' });
  // @ts-expect-error templateIds is a list
  createGrantHandler({ ...options, templateIds: 'TPL_1' });
  const answer = await handle(null as never);
  const status: number = answer.status;
  return [sql, created, stored.sequence, done, listener, status];
}
declare const process_env_database: boolean;

// The sending half: the token provider, one grant, the worker.
import {
  decideSend,
  readStableToken,
  sendGrant,
  stableTokenProvider,
  staticTokenProvider,
  startSendWorker,
} from 'wx-subscribemsg';
import type { SendDecision, SendOutcome, SendWorker, TokenProvider } from 'wx-subscribemsg';

export async function sending(store: GrantStore) {
  const token: TokenProvider = stableTokenProvider({ appid: 'wxaba38c7f163da69b', secret: 'APPSECRET' });
  const central: TokenProvider = staticTokenProvider(async () => 'TOKEN', { onInvalid: (t: string) => void t });
  const outcome: SendOutcome = await sendGrant({
    store,
    token,
    reserved: 'abc123',
    message: { title: '发货通知', content: '您的订单已发货' },
  });
  const state: 'sent' | 'refused' | 'stored' | 'blocked' | 'unknown' = outcome.state;
  const worker: SendWorker = startSendWorker({
    store,
    token: central,
    message: (grant: StoredGrant) => ({ title: 'Shipped', content: `scene ${grant.scene}` }),
    batch: 20,
  });
  const paused: boolean = worker.state === 'paused';
  await worker.stop();
  const decision: SendDecision = decideSend({ errcode: 43101, attempts: 2, lastDetail: null });
  const lost: SendDecision = decideSend({ noAnswer: true, attempts: 1, newerGrant: false });
  const lifetime: number = readStableToken({ access_token: 'T', expires_in: 7200 }).cacheMs;
  // @ts-expect-error the secret is required
  stableTokenProvider({ appid: 'wxaba38c7f163da69b' });
  // @ts-expect-error a message needs content
  await sendGrant({ store, token, reserved: 'abc', message: { title: 'T' } });
  // @ts-expect-error no answer needs newerGrant
  decideSend({ noAnswer: true, attempts: 1 });
  return [state, paused, decision.retryWithNewToken, lost.state, lifetime];
}
