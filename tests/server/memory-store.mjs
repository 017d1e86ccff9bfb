// Test helper ONLY, not a product store: an in-memory GrantStore implementing the backend brief's interface,
// so the sender's tests can run before and beside the real stores (file, PostgreSQL). Not durable, one process.
import crypto from 'node:crypto';

const FINAL = new Set(['sent', 'refused', 'blocked', 'unknown', 'stored']);

/** @param {{ now?: () => number }} [options] */
export function memoryGrantStoreForTests({ now = Date.now } = {}) {
  /** @type {Map<string, any>} */
  const grants = new Map();
  const leases = new Map(); // reserved -> lease id
  let sequence = 0;
  const copy = (g) => ({ ...g });
  return {
    async insert(grant) {
      const known = grants.get(grant.reserved);
      if (known) return { created: false, grant: copy(known) };
      const t = now();
      const stored = {
        appid: grant.appid,
        openid: grant.openid,
        templateId: grant.templateId,
        scene: grant.scene,
        reserved: grant.reserved,
        state: 'stored',
        receivedAt: t,
        sequence: (sequence += 1),
        attempts: 0,
        dueAt: t,
        leaseUntil: null,
        errcode: null,
        detail: null,
        updatedAt: t,
      };
      grants.set(grant.reserved, stored);
      return { created: true, grant: copy(stored) };
    },
    async get(reserved) {
      const g = grants.get(reserved);
      return g ? copy(g) : null;
    },
    async list(filter = {}) {
      return [...grants.values()]
        .filter((g) => (!filter.state || g.state === filter.state) && (!filter.openid || g.openid === filter.openid))
        .map(copy);
    },
    async claim({ leaseMs, limit = 1, reserved }) {
      const t = now();
      const due = [...grants.values()]
        .filter((g) => !reserved || g.reserved === reserved)
        .filter((g) => (g.state === 'stored' && g.dueAt <= t) || (g.state === 'sending' && g.leaseUntil <= t))
        .sort((a, b) => a.sequence - b.sequence)
        .slice(0, limit);
      return due.map((g) => {
        const lease = crypto.randomUUID();
        Object.assign(g, { state: 'sending', leaseUntil: t + leaseMs, attempts: g.attempts + 1, updatedAt: t });
        leases.set(g.reserved, lease);
        return { grant: copy(g), lease };
      });
    },
    async finish(claim, outcome) {
      const g = grants.get(claim.grant.reserved);
      if (!g || g.state !== 'sending' || leases.get(g.reserved) !== claim.lease) return false;
      if (!FINAL.has(outcome.state)) throw new Error(`bad state ${outcome.state}`);
      const t = now();
      Object.assign(g, {
        state: outcome.state,
        leaseUntil: null,
        errcode: outcome.errcode ?? null,
        detail: outcome.detail ?? null,
        dueAt: outcome.state === 'stored' ? t + (outcome.retryInMs ?? 0) : g.dueAt,
        updatedAt: t,
      });
      leases.delete(g.reserved);
      return true;
    },
    async hasNewer(grant) {
      return [...grants.values()].some(
        (g) =>
          g.openid === grant.openid &&
          g.templateId === grant.templateId &&
          g.scene === grant.scene &&
          g.sequence > grant.sequence &&
          (g.state === 'stored' || g.state === 'sending'),
      );
    },
    async unblock() {
      let n = 0;
      for (const g of grants.values()) {
        if (g.state === 'blocked') {
          Object.assign(g, { state: 'stored', dueAt: now(), updatedAt: now() });
          n += 1;
        }
      }
      return n;
    },
    async close() {},
  };
}
