// Request bodies, bounded: every handler that reads one goes through here, so a body that is too large,
// not JSON or of the wrong type gets the same answer everywhere.
import { sendError } from './http.mjs';

/** The body as text, or null when it is longer than `limit` bytes (the rest is drained, unread). */
export function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The value of a JSON text, or undefined (which no JSON text is) when it is not JSON. */
export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function tooLarge(res, limit) {
  // The client may still be sending: do not keep reading a connection that sends too much.
  sendError(res, 413, 'body_too_large', `body larger than ${limit} bytes`, {}, { Connection: 'close' });
}

/**
 * A JSON request body. Answers 415 (not Content-Type: application/json), 413 (over `limit` bytes) or
 * 400 (not JSON) itself and then resolves undefined: the caller just returns.
 */
export async function readJson(req, res, limit) {
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    sendError(res, 415, 'unsupported_media_type', 'Content-Type must be application/json');
    return undefined;
  }
  const text = await readBody(req, limit);
  if (text === null) {
    tooLarge(res, limit);
    return undefined;
  }
  const value = parseJson(text);
  if (value === undefined) sendError(res, 400, 'invalid_json', 'the body is not JSON');
  return value;
}

/** A form body (application/x-www-form-urlencoded); answers 413 itself and resolves null when too large. */
export async function readForm(req, res, limit) {
  const text = await readBody(req, limit);
  if (text === null) {
    tooLarge(res, limit);
    return null;
  }
  return new URLSearchParams(text);
}
