// Types of js/server/grant-handler.js.
import type { Grant, GrantStore } from './file-store.js';

/** What the handler reads of a request: a Web standard Request is one. Structural, so a server needs no DOM lib. */
export interface GrantRequestLike {
  readonly method: string;
  readonly headers: { get(name: string): string | null };
  readonly body: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array }>;
      cancel(reason?: unknown): Promise<void>;
    };
    cancel(reason?: unknown): Promise<void>;
  } | null;
}

/** What a handler's answer offers without the DOM lib: a Web standard Response. */
export interface GrantResponseLike {
  readonly status: number;
  readonly headers: {
    get(name: string): string | null;
    forEach(callback: (value: string, name: string) => void): void;
  };
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<any>;
  text(): Promise<string>;
}

/** The global Request type where one is declared (the DOM lib, @types/node), else GrantRequestLike. */
export type WebRequest = typeof globalThis extends { Request: { prototype: infer R } } ? R : GrantRequestLike;
/** The global Response type where one is declared (the DOM lib, @types/node), else GrantResponseLike. */
export type WebResponse = typeof globalThis extends { Response: { prototype: infer R } } ? R : GrantResponseLike;

export interface GrantHandlerOptions {
  /** Your Service Account's AppID; grants for another are refused (400, appid_mismatch). */
  appid: string;
  /** The one-time templates you send (at least one); grants for others are refused (400, template_not_accepted). */
  templateIds: string[];
  /** Where grants go: openFileStore(path) on one machine, pgStore({ client }) on several. */
  store: Pick<GrantStore, 'insert'>;
  /**
   * Checks a valid grant against the visitor (e.g. the openid against your session) before it is stored; return
   * false to answer 403, which makes the browser drop the grant. Do not refuse a visitor whose session merely
   * expired: the grant is only a permission you may use, so accept it and check the openid later. Never answer
   * 401 from a grant endpoint for the same reason. A hook that throws gives 500, which the browser retries.
   */
  authorize?: (grant: Grant, request: WebRequest) => boolean | void | Promise<boolean | void>;
  /** For a page on another origin: the exact origins allowed ('https://shop.example.com'), and whether its
   * cookies go along (handleCallback's credentials: 'include'). */
  cors?: { origins: string[]; credentials?: boolean };
  /** The largest body accepted, in bytes (256 to 1 MiB; default 16 KiB); larger ones get 413 while still reading. */
  maxBodyBytes?: number;
  /** Told of each failure behind a 503 (the store cannot write: what failed, never sent to the client) or a 500
   * (`authorize` or the store threw). Default: one line with console.error. */
  onError?: (error: unknown) => void;
}

/** The JSON body of every answer that is not a 2xx. */
export interface GrantEndpointError {
  error: {
    /** 'invalid_grant' (400, with problems), 'forbidden' (403), 'method_not_allowed' (405), 'idempotency_conflict'
     * (409), 'body_too_large' (413), 'unsupported_media_type' (415), 'internal_error' (500), 'store_unavailable' (503). */
    code: string;
    message: string;
    /** With invalid_grant: every problem, e.g. { field: 'scene', code: 'invalid_scene', message: '…' }. */
    problems?: { field: string; code: string; message: string }[];
  };
}

/**
 * The grant endpoint as a Web standard handler (Next.js route handlers, Hono, Fastify, Deno, workers). It answers
 * 201 for a new grant, 200 for the same Idempotency-Key with the same grant, 409 for the same key with another
 * grant, 400 with the problems, 403 when `authorize` says no, 405, 413, 415, and 503 while the store cannot write
 * (the browser keeps the grant and retries). A 2xx only once the grant is durable; never a redirect. Rejects with
 * a SubscribeError 'invalid_option' when called with something that is not a Request.
 */
export function createGrantHandler(options: GrantHandlerOptions): (request: WebRequest) => Promise<WebResponse>;
