// Types of js/server/index.js, the Node entry's server half.
export * from './grant-handler.js';
export * from './node-listener.js';
export * from './file-store.js';
export * from './pg-store.js';
export * from './token.js';
export * from './sender.js';
