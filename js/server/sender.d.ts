// Types of js/server/sender.js: sending each grant's one message.
import type { GrantStore, StoredGrant } from './file-store.js';
import type { FetchLike, TokenProvider } from './token.js';

/** WeChat's send API path under the API host. */
export declare const SEND_API_PATH: '/cgi-bin/message/template/subscribe';
/** Default lease of a claim, ms. */
export declare const DEFAULT_LEASE_MS: 60000;
/** Default timeout of one request to WeChat, ms. */
export declare const DEFAULT_TIMEOUT_MS: 10000;

/** The message of one grant: what buildSendRequest takes besides the grant's openid, template and scene. */
export interface SendMessage {
  title: string;
  content: string;
  color?: string;
  url?: string;
  miniprogram?: { appid: string; pagepath?: string };
}

/** What one send did to a grant. */
export interface SendOutcome {
  reserved: string;
  state: 'sent' | 'refused' | 'stored' | 'blocked' | 'unknown';
  /** WeChat's last errcode; null when no answer came (or no request was made). */
  errcode: number | null;
  /** decideSend's name: the errcode's name, 'sent_earlier', 'no_answer', 'no_answer_newer_grant',
   * 'retries_exhausted'. Recorded as the grant's detail. */
  name: string;
  /** With state 'stored': when it will be tried again, ms from now. */
  retryInMs: number | null;
  /** The account's setup refuses every send (40164, 48001): a worker stops. */
  stopQueue: boolean;
  /** A quota or rate limit (45009, 45011): a worker pauses for retryInMs. */
  pauseQueue: boolean;
  /** False when the lease had expired and another sender had taken the grant: the store kept its outcome. */
  recorded: boolean;
}

export interface SenderOptions {
  /** The grant store: openFileStore(…) or pgStore(…). */
  store: GrantStore;
  token: TokenProvider;
  /** The message, or a function making it from the grant (e.g. from your order database). */
  message: SendMessage | ((grant: StoredGrant) => SendMessage | Promise<SendMessage>);
  /** Default 'https://api.weixin.qq.com'. */
  apiBase?: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** How long a claim holds the grant, ms (default 60000; at least 2 × timeoutMs + 1000). */
  leaseMs?: number;
  /** One request's timeout, ms (default 10000). */
  timeoutMs?: number;
}

/**
 * Sends the one message of the grant stored under `reserved`, now. Rejects with the token provider's error
 * (nothing claimed), 'grant_not_due' (absent, finished, blocked, not yet due, or leased by another sender), or the
 * message's error from buildSendRequest (the grant is given back unsent).
 */
export declare function sendGrant(options: SenderOptions & { reserved: string }): Promise<SendOutcome>;

export interface SendWorker {
  /** 'paused' after 45009/45011 or while the token endpoint fails; 'stopped' after 40164/48001, a refused
   * AppID/secret, or stop(). */
  readonly state: 'running' | 'paused' | 'stopped';
  /** Why it is paused or stopped, e.g. 'invalid_ip (errcode 40164)'. */
  readonly reason: string | null;
  /** While paused: when sending resumes, ms since the epoch. */
  readonly pausedUntil: number | null;
  /** Outcomes so far, by state. */
  readonly counts: Record<'sent' | 'refused' | 'stored' | 'blocked' | 'unknown', number>;
  /** Resolves (with the counts) when a round finds no due grant, or the worker pauses or stops. */
  drain(): Promise<Record<'sent' | 'refused' | 'stored' | 'blocked' | 'unknown', number>>;
  /** Stops claiming; resolves once the grant being sent is finished (the rest of its batch goes back unsent). */
  stop(): Promise<void>;
}

/** Starts a worker that claims due grants (oldest first) and sends them until stop(). */
export declare function startSendWorker(
  options: SenderOptions & {
    /** Wait between rounds that find nothing due, ms (default 1000). */
    intervalMs?: number;
    /** Grants claimed per round (default 10). */
    batch?: number;
    /** Lines for the site's log (never a token or secret). */
    log?: (line: string) => void;
    /** Called with each outcome. */
    onOutcome?: (outcome: SendOutcome) => void;
  },
): SendWorker;
