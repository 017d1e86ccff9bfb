// The server half of the package (its Node entry re-exports this): the grant endpoint, the grant stores, WeChat's
// access_token, and sending each grant's one message. I/O only: what an input or an answer means is decided by the
// wasm core (src/server/), reached through ../node/wx_subscribemsg.js, which node.js initialises before any call.
export * from './grant-handler.js';
export * from './node-listener.js';
export * from './file-store.js';
export * from './pg-store.js';
export * from './token.js';
export * from './sender.js';
