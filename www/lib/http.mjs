// Small helpers shared by the server's handlers: JSON, HTML and error answers, HTML escaping, cookies.

export function sendJson(res, status, body, headers = {}) {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res, status, html, headers = {}) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(html);
}

/**
 * The demo server's one error body, { error: { code, message }, ...extra }: what the sink, /api/send, the
 * fault switch, a 404 under /api/, a 405 and a 500 answer (the simulators' pages answer like WeChat instead).
 */
export function sendError(res, status, code, message, extra = {}, headers = {}) {
  sendJson(res, status, { error: { code, message }, ...extra }, headers);
}

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Parses a Cookie header into a Map. */
export function parseCookies(header = '') {
  const cookies = new Map();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}
