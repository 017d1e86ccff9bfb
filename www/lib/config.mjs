// Configuration of the demo server: environment variables, their defaults and their validation.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAppId, isTemplateId } from './wechat-rules.mjs';

export const WWW_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROOT_DIR = path.dirname(WWW_DIR);

export const DEFAULTS = Object.freeze({
  APPID: 'wxaba38c7f163da69b',
  // The first is the template of WeChat's own documentation; the second lets the demo offer a choice.
  TEMPLATE_ID: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc,Qf4v7yWJZ2mT0dL9sHkXcB1nR8aPqE5uVgY3oNwIzKj',
  BUSINESS_DOMAIN: '127.0.0.1',
  HOST: '127.0.0.1',
  PORT: '8080',
  DATA_DIR: path.join(WWW_DIR, 'data'),
  AUTHORIZE_URL: '', // empty: the local simulator, http://HOST:PORT/mp/subscribemsg
  FAULTS: '',
  DELIVERY_TIMEOUT_MS: '8000', // the pages' timeoutMs for each POST of a grant (the package's default)
  DELIVERY_RETRY_DELAY_MS: '500', // the pages' retryDelayMs (the package's default)
  WX_API_BASE: '', // empty: the local send API simulator, http://HOST:PORT/wxapi
  WX_ACCESS_TOKEN: '', // empty: the simulator's token (required with another WX_API_BASE)
  SIM_ACCESS_TOKEN: 'SIMULATED_ACCESS_TOKEN', // a fixed access_token the send API simulator always accepts
  SIM_APP_SECRET: 'SIMULATED_APP_SECRET', // the AppSecret the simulator's cgi-bin/stable_token accepts with APPID
  DATABASE_URL: '', // empty: the file store in DATA_DIR; postgres://… keeps grants in PostgreSQL instead
});

const TOKEN_RE = /^[\x21-\x7e]{1,512}$/;

const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export class ConfigError extends Error {
  constructor(problems) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads the configuration from an environment object (process.env by default).
 * Throws ConfigError listing every problem at once.
 */
export function loadConfig(env = process.env) {
  const problems = [];
  const pick = (name) => {
    const value = env[name];
    return value === undefined || value === ''
      ? { value: DEFAULTS[name], isDefault: true }
      : { value: String(value).trim(), isDefault: false };
  };
  const sources = {};
  const get = (name) => {
    const { value, isDefault } = pick(name);
    sources[name] = isDefault ? 'default' : 'env';
    return value;
  };

  const appid = get('APPID');
  if (!isAppId(appid)) problems.push(`APPID must be "wx" followed by 16 hex digits, got ${JSON.stringify(appid)}`);

  const templateIds = get('TEMPLATE_ID')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (templateIds.length === 0) problems.push('TEMPLATE_ID must name at least one template id');
  for (const id of templateIds) {
    if (!isTemplateId(id))
      problems.push(`TEMPLATE_ID ${JSON.stringify(id)} is not a template id (1..128 letters, digits, "-" and "_")`);
  }

  const businessDomain = get('BUSINESS_DOMAIN').toLowerCase();
  if (!HOSTNAME_RE.test(businessDomain)) {
    problems.push(
      `BUSINESS_DOMAIN must be a bare host name such as "example.com" (no scheme, port or path), got ${JSON.stringify(businessDomain)}`,
    );
  }

  const host = get('HOST');
  const portText = get('PORT');
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535))
    problems.push(`PORT must be an integer from 0 to 65535 (0 picks a free port), got ${JSON.stringify(portText)}`);

  const dataDir = path.resolve(get('DATA_DIR'));

  const authorizeUrl = get('AUTHORIZE_URL');
  if (authorizeUrl) {
    let u = null;
    try {
      u = new URL(authorizeUrl);
    } catch {
      /* reported below */
    }
    if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash) {
      problems.push(
        `AUTHORIZE_URL must be an absolute http(s) URL without query or fragment, got ${JSON.stringify(authorizeUrl)}`,
      );
    }
  }

  const wxApiBase = get('WX_API_BASE').replace(/\/+$/, '');
  if (wxApiBase) {
    let u = null;
    try {
      u = new URL(wxApiBase);
    } catch {
      /* reported below */
    }
    if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash || u.username || u.password) {
      problems.push(
        `WX_API_BASE must be an absolute http(s) URL without query or fragment, such as https://api.weixin.qq.com, got ${JSON.stringify(wxApiBase)}`,
      );
    }
  }
  const simAccessToken = get('SIM_ACCESS_TOKEN');
  if (!TOKEN_RE.test(simAccessToken))
    problems.push('SIM_ACCESS_TOKEN must be 1..512 printable ASCII characters without spaces');
  const simAppSecret = get('SIM_APP_SECRET');
  if (!TOKEN_RE.test(simAppSecret) || simAppSecret.length > 128)
    problems.push('SIM_APP_SECRET must be 1..128 printable ASCII characters without spaces');
  const wxAccessToken = get('WX_ACCESS_TOKEN');
  if (wxAccessToken && !TOKEN_RE.test(wxAccessToken))
    problems.push(
      'WX_ACCESS_TOKEN must be 1..512 printable ASCII characters without spaces (the access_token itself, not a URL)',
    );
  else if (wxApiBase && !wxAccessToken)
    problems.push('WX_ACCESS_TOKEN is required when WX_API_BASE is set (see README.md, "Sending for real")');

  const delivery = {};
  for (const [name, key, max] of [
    ['DELIVERY_TIMEOUT_MS', 'timeoutMs', 120_000],
    ['DELIVERY_RETRY_DELAY_MS', 'retryDelayMs', 60_000],
  ]) {
    const text = get(name);
    delivery[key] = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
    if (!(delivery[key] >= (key === 'timeoutMs' ? 1 : 0) && delivery[key] <= max))
      problems.push(`${name} must be an integer number of milliseconds up to ${max}, got ${JSON.stringify(text)}`);
  }

  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl) {
    let u = null;
    try {
      u = new URL(databaseUrl);
    } catch {
      /* reported below */
    }
    // Never echo the value: it may hold a password.
    if (!u || !/^postgres(?:ql)?:$/.test(u.protocol) || !u.hostname)
      problems.push('DATABASE_URL must be a postgres:// URL such as postgres://user@127.0.0.1:5432/app');
  }

  let faults = { queue: [], down: null };
  try {
    faults = parseFaults(get('FAULTS'));
  } catch (err) {
    problems.push(`FAULTS: ${err.message}`);
  }

  if (problems.length) throw new ConfigError(problems);
  return {
    appid,
    templateIds,
    businessDomain,
    host,
    port,
    dataDir,
    authorizeUrl,
    faults,
    delivery,
    wxApiBase,
    wxAccessToken,
    simAccessToken,
    simAppSecret,
    databaseUrl,
    sources,
  };
}

/**
 * FAULTS syntax: a comma-separated queue of failures for the next POSTs to the grant sink, each an
 * HTTP status (e.g. 503) or "reset" (the connection is dropped): FAULTS=503,503.
 * "down" (or "down:500") makes every POST fail until the fault switch is cleared.
 */
export function parseFaults(text) {
  const faults = { queue: [], down: null };
  for (const token of String(text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const down = /^down(?::(.+))?$/.exec(token);
    if (down) {
      faults.down = parseFault(down[1] ?? '503');
    } else {
      faults.queue.push(parseFault(token));
    }
  }
  return faults;
}

/** Faults other than an HTTP status: what the sink does instead of answering (see sink.mjs). */
export const FAULT_KINDS = ['reset', 'login', 'hang', 'lost'];

export function parseFault(token) {
  if (FAULT_KINDS.includes(token)) return token;
  const n = typeof token === 'number' ? token : /^\d{3}$/.test(String(token)) ? Number(token) : NaN;
  if (Number.isInteger(n) && n >= 400 && n <= 599) return n;
  throw new Error(
    `${JSON.stringify(token)} is not a fault: use an HTTP status from 400 to 599, or ${FAULT_KINDS.map((k) => `"${k}"`).join(', ')}`,
  );
}

/** The lines printed at start: every variable, its value and where it came from. The access token is never printed. */
export function describeConfig(config, { url, authorizeUrl, wxApiBase }) {
  const mark = (name) => (config.sources[name] === 'default' ? '  (default)' : '');
  const faults = [...config.faults.queue, ...(config.faults.down ? [`down:${config.faults.down}`] : [])].join(',');
  const rows = [
    ['APPID', config.appid],
    ['TEMPLATE_ID', config.templateIds.join(',')],
    ['BUSINESS_DOMAIN', config.businessDomain],
    ['HOST', config.host],
    ['PORT', String(config.port)],
    ['DATA_DIR', config.dataDir],
    ['AUTHORIZE_URL', config.authorizeUrl ? config.authorizeUrl : `${authorizeUrl} (local simulator)`],
    ['FAULTS', faults || '(none)'],
    ['DELIVERY_TIMEOUT_MS', String(config.delivery.timeoutMs)],
    ['DELIVERY_RETRY_DELAY_MS', String(config.delivery.retryDelayMs)],
    ['WX_API_BASE', config.wxApiBase ? config.wxApiBase : `${wxApiBase} (local send API simulator)`],
    [
      'WX_ACCESS_TOKEN',
      config.wxAccessToken
        ? `(set, ${config.wxAccessToken.length} characters, not shown)`
        : "(tokens from the simulator's stable_token)",
    ],
    ['SIM_ACCESS_TOKEN', config.simAccessToken],
    ['SIM_APP_SECRET', `(${config.simAppSecret.length} characters, not shown)`],
    [
      'DATABASE_URL',
      config.databaseUrl ? `(set: PostgreSQL at ${databaseHost(config.databaseUrl)})` : '(the file store in DATA_DIR)',
    ],
  ];
  return [`wx-subscribemsg demo: ${url}`, ...rows.map(([k, v]) => `  ${k.padEnd(17)}${v}${mark(k)}`)];
}

/** Host, port and database of a DATABASE_URL, without its user or password. */
function databaseHost(databaseUrl) {
  const u = new URL(databaseUrl);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}
