/** The stable code of every error this package throws or rejects with. */
export type SubscribeErrorCode = CoreErrorCode | LoadErrorCode;

/** The code of the import itself when the .wasm file cannot be fetched or compiled (see the README, "Bundlers"):
 * the entry module makes this error, since there is no core to make it. */
export type LoadErrorCode = 'wasm_unavailable';

/** The codes of the wasm core: the table in src/error.rs, and a test keeps this list equal to it. */
export type CoreErrorCode =
  | 'invalid_appid'
  | 'invalid_scene'
  | 'invalid_template_id'
  | 'invalid_reserved'
  | 'invalid_redirect_url'
  | 'invalid_option'
  | 'domain_mismatch'
  | 'not_in_wechat'
  | 'storage_unavailable'
  | 'crypto_unavailable'
  | 'no_callback'
  | 'missing_param'
  | 'duplicate_param'
  | 'invalid_param'
  | 'unknown_reserved'
  | 'template_mismatch'
  | 'scene_mismatch'
  | 'backend_rejected'
  | 'invalid_openid'
  | 'invalid_title'
  | 'invalid_content'
  | 'invalid_color'
  | 'invalid_url'
  | 'invalid_miniprogram'
  | 'browser_only'
  | 'invalid_grant'
  | 'invalid_body'
  | 'key_mismatch'
  | 'appid_mismatch'
  | 'template_not_accepted'
  | 'store_unavailable'
  | 'store_locked'
  | 'token_refused'
  | 'token_rate_limited'
  | 'token_unavailable'
  | 'grant_not_due';

/** What every function of this package throws or rejects with: switch on `code`, show `message`. */
export interface SubscribeError extends Error {
  name: 'SubscribeError';
  code: SubscribeErrorCode;
  /** With code 'invalid_grant' (parseGrant): every problem of the grant, each with its field ('appid', 'openid',
   * 'template_id', 'scene', 'reserved', 'Idempotency-Key' or 'body') and its own code and message. */
  problems?: { field: string; code: SubscribeErrorCode; message: string }[];
}
