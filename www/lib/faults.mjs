// The grant sink's fault switch: a queue of failures for the next POSTs (FAULTS=503,503) and an
// optional "down" failure for every POST after that, until cleared. A failure is an HTTP status
// (400..599), "reset" (the connection is dropped without an answer), "login" (a 302 to the login page,
// as a grant endpoint behind an expired session answers), "hang" (no answer until the client gives up)
// or "lost" (the grant is stored, then the connection dropped before the answer).
import { parseFault } from './config.mjs';

export function createFaultSwitch(initial = { queue: [], down: null }) {
  let queue = [...initial.queue];
  let down = initial.down ?? null;
  return {
    /** The failure for this request, or null when the sink should work. */
    take: () => (queue.length ? queue.shift() : down),
    state: () => ({ queue: [...queue], down }),
    /** Replaces the state from a JSON body { queue?: [...], down?: fault | null }. */
    set(body) {
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new Error('expected an object { queue, down }');
      const nextQueue = body.queue === undefined ? [] : body.queue;
      if (!Array.isArray(nextQueue) || nextQueue.length > 100)
        throw new Error('queue must be an array of at most 100 faults');
      const parsedQueue = nextQueue.map(parseFault);
      const parsedDown =
        body.down === undefined || body.down === null || body.down === false
          ? null
          : parseFault(body.down === true ? 503 : body.down);
      queue = parsedQueue;
      down = parsedDown;
    },
    clear() {
      queue = [];
      down = null;
    },
  };
}
