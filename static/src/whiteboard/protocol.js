// Timing-free pieces of the whiteboard protocol (CONTRACT.md, namespace /whiteboard):
// stroke ids, live batching, the outbox of unacknowledged strokes, and the replay cursor.
// sync.js adds the socket and the timers; keeping these pure makes them testable in Node.

export const LIMITS = Object.freeze({
  idLength: 64,
  points: 5000, // per stored stroke
  livePoints: 500, // per stroke:live message
  textLength: 2000,
  minWidth: 0.5,
  maxWidth: 64,
  maxPage: 999,
});

export const SHAPES = new Set(["line", "rect", "ellipse"]);

/** Return a new client id for a stroke: a UUID, or 32 random hex digits on older browsers. */
export function newId(cryptoApi = globalThis.crypto) {
  if (cryptoApi?.randomUUID) return cryptoApi.randomUUID();
  const bytes = new Uint8Array(16);
  if (cryptoApi?.getRandomValues) cryptoApi.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Round to 0.01 board units: far below a pixel, and it keeps messages short. */
export const round = (value) => Math.round(value * 100) / 100;

/** Return the `stroke` payload of a finished stroke, as CONTRACT.md describes it. */
export function strokePayload(stroke) {
  const payload = {
    id: stroke.id,
    page: stroke.page,
    tool: stroke.tool,
    color: stroke.color,
    width: stroke.width,
    points: stroke.points.map(([x, y]) => [round(x), round(y)]),
  };
  if (stroke.tool === "text") payload.text = stroke.text;
  // Extension of the contract: pen pressure per point, only when a pen reported it.
  if (stroke.pressures && stroke.pressures.length === stroke.points.length) {
    payload.pressures = stroke.pressures.map(round);
  }
  return payload;
}

// Live batching: every ~50 ms sync.js asks for the points drawn since the previous batch,
// so a 60 points/s pen makes ~20 messages a second instead of 60.
export class LiveBatcher {
  constructor() {
    this.sent = 0; // points of a freehand stroke already sent
    this.lastEnd = null; // for shapes: the end point last sent
  }

  /** Return the stroke:live payloads (maybe none) carrying what changed since last time. */
  take(stroke) {
    const meta = { id: stroke.id, page: stroke.page, tool: stroke.tool, color: stroke.color, width: stroke.width };
    if (stroke.tool === "text" || stroke.points.length === 0) return [];
    if (SHAPES.has(stroke.tool)) {
      // A shape is its first and last point; only the moving end is worth sending again.
      const end = stroke.points[stroke.points.length - 1];
      if (this.lastEnd && this.lastEnd[0] === end[0] && this.lastEnd[1] === end[1]) return [];
      const points = this.lastEnd ? [end] : [stroke.points[0], end];
      this.lastEnd = end;
      return [{ ...meta, points: points.map(([x, y]) => [round(x), round(y)]) }];
    }
    const batches = [];
    while (this.sent < stroke.points.length) {
      const end = Math.min(stroke.points.length, this.sent + LIMITS.livePoints);
      const batch = { ...meta, points: stroke.points.slice(this.sent, end).map(([x, y]) => [round(x), round(y)]) };
      if (stroke.pressures && stroke.pressures.length >= end) {
        batch.pressures = stroke.pressures.slice(this.sent, end).map(round);
      }
      batches.push(batch);
      this.sent = end;
    }
    return batches;
  }
}

// The outbox: finished strokes not yet acknowledged, kept in sessionStorage per board so a
// reload or a dropped connection does not lose them. The server deduplicates by id, so
// sending one twice is harmless; losing one is not.
export class Outbox {
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
    this.strokes = new Map();
    try {
      for (const stroke of JSON.parse(storage?.getItem(key) ?? "[]")) this.strokes.set(stroke.id, stroke);
    } catch {
      // A corrupt entry is dropped rather than blocking the board.
    }
  }

  add(payload) {
    this.strokes.set(payload.id, payload);
    this.save();
  }

  remove(id) {
    if (this.strokes.delete(id)) this.save();
  }

  has(id) {
    return this.strokes.has(id);
  }

  /** Return the strokes in the order they were drawn. */
  list() {
    return [...this.strokes.values()];
  }

  get size() {
    return this.strokes.size;
  }

  save() {
    try {
      if (this.strokes.size) this.storage?.setItem(this.key, JSON.stringify(this.list()));
      else this.storage?.removeItem(this.key);
    } catch {
      // Storage full or disabled (private mode): the outbox still lives in memory.
    }
  }
}

/** Return the sessionStorage key of a board's outbox. */
export const outboxKey = (sessionId) => `manabi.whiteboard.outbox.${sessionId}`;

// The replay cursor: the `since` to send on the next join. It is the highest seq below which
// this client is sure to have every item, not simply the highest seq seen: a broadcast can
// overtake the join reply (or the ack of one's own stroke can overtake others' broadcasts,
// with several server processes), and asking from the highest seq would then skip the items
// in between forever. The join reply's `last_seq` is certain; after it, seqs are counted as
// they arrive and the cursor moves only over an unbroken run. A board's seqs have no gaps, so
// a gap that lasts is a lost broadcast: sync.js then joins again from `confirmed`; asking for
// too much is harmless because applying items is idempotent.
export class SeqCursor {
  constructor() {
    this.confirmed = 0;
    this.ahead = new Set();
  }

  /** Record a join reply: the server sent every item up to `lastSeq`. */
  joined(lastSeq) {
    // Never back: a reply read before items this client has seen since must not reopen them.
    if (Number.isInteger(lastSeq) && lastSeq >= 0) this.confirmed = Math.max(this.confirmed, lastSeq);
    this.advance();
  }

  /** Tell whether a seq above `confirmed` was seen while one below it is still missing. */
  hasGap() {
    return this.ahead.size > 0;
  }

  /** Record one item received outside a join reply. */
  saw(seq) {
    if (!Number.isInteger(seq) || seq <= this.confirmed) return;
    this.ahead.add(seq);
    this.advance();
  }

  advance() {
    for (const seq of this.ahead) if (seq <= this.confirmed) this.ahead.delete(seq);
    while (this.ahead.delete(this.confirmed + 1)) this.confirmed += 1;
  }
}

/** Tell whether a refused stroke is worth sending again later (not a validation error). */
export function retryable(ack) {
  if (!ack) return true; // no answer: timed out or the connection dropped
  return ["rate_limited", "unavailable", "server_error"].includes(ack.error?.code);
}
