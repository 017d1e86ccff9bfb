// The demo server's routing: a table of exact paths, each with its handlers by method. A path the table
// has, asked with a method it does not list, gets 405 with the Allow header the table implies, so no
// handler checks its own method.
import { sendError } from './http.mjs';

/** A route's key for a handler that takes every method (WeChat's API answers a GET itself, 43002). */
export const ANY_METHOD = '*';

/**
 * table: { [path]: { GET?, POST?, PUT?, DELETE?, [ANY_METHOD]? } }, each handler (req, res, url).
 * HEAD runs GET (Node sends no body for HEAD). Returns route(req, res, url), true when the path is a route.
 */
export function createRouter(table) {
  const routes = new Map(Object.entries(table));
  return async function route(req, res, url) {
    const handlers = routes.get(url.pathname);
    if (!handlers) return false;
    const method = req.method === 'HEAD' && !Object.hasOwn(handlers, 'HEAD') ? 'GET' : req.method;
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : handlers[ANY_METHOD];
    if (handler) {
      await handler(req, res, url);
    } else {
      const allowed = Object.keys(handlers);
      sendError(
        res,
        405,
        'method_not_allowed',
        `${url.pathname} takes ${allowed.join(' or ')}`,
        {},
        { Allow: allowed.join(', ') },
      );
    }
    return true;
  };
}
