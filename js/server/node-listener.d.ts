// Types of js/server/node-listener.js. Structural, so a server type-checks without @types/node or the DOM lib;
// node:http's IncomingMessage and ServerResponse (and Express's req and res) are such values.
import type { GrantHandlerOptions } from './grant-handler.js';

/** What the listener reads of a node:http request. */
export interface NodeRequestLike {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** What the listener writes to a node:http response. */
export interface NodeResponseLike {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body?: string | Uint8Array): unknown;
}

/**
 * The grant endpoint for node:http and Express: `http.createServer(createGrantListener(options))` or
 * `app.post('/api/grants', createGrantListener(options))`, mounted before any body parser.
 */
export function createGrantListener(
  options: GrantHandlerOptions,
): (req: NodeRequestLike, res: NodeResponseLike) => void;
