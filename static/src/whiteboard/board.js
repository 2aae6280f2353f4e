// The board model: the item log by seq and what each page shows. No DOM, no network.
//
// What a page shows is derived from the log so that it does not depend on the order items
// arrive in: a replay after a reconnect may interleave with broadcasts, and applying the
// same items in any order, any number of times, must give the same board.
//   - a stroke (or image) is visible unless erased or cleared;
//   - erased: the latest (highest seq) erase/restore item naming its id is an erase;
//   - cleared: a clear of its page has a higher seq than the stroke.
// So a restore undoes an erase but never a clear.

const DRAWN = new Set(["stroke", "image"]);

/** Return [[x, y], ...] from either pairs or the flat [x, y, x, y, ...] replay encoding. */
export function toPairs(points) {
  if (!Array.isArray(points) || points.length === 0) return [];
  if (Array.isArray(points[0])) return points;
  const pairs = [];
  for (let i = 0; i + 1 < points.length; i += 2) pairs.push([points[i], points[i + 1]]);
  return pairs;
}

export class Board {
  constructor() {
    this.items = new Map(); // seq -> item, every item ever applied
    this.drawn = new Map(); // stroke id -> stroke or image item (the lowest seq wins)
    this.toggles = new Map(); // stroke id -> latest erase or restore item
    this.clears = new Map(); // page -> highest clear seq
    this.pending = new Map(); // stroke id -> own stroke sent but not yet acknowledged
    this.lastSeq = 0;
    this.addedPages = 1; // pages made locally with "add page", before anything is drawn there
    this.version = 0; // bumped on every change; caches and the renderer compare it
    this.cache = new Map(); // page -> {version, strokes}
  }

  /** Apply one stored item; return whether it changed anything (false for a repeat). */
  apply(raw) {
    const seq = raw?.seq;
    if (!Number.isInteger(seq) || seq < 1 || this.items.has(seq)) return false;
    const item = DRAWN.has(raw.type) ? { ...raw, points: toPairs(raw.points) } : raw;
    this.items.set(seq, item);
    this.lastSeq = Math.max(this.lastSeq, seq);
    if (DRAWN.has(item.type)) {
      const id = item.id ?? `seq:${seq}`;
      const known = this.drawn.get(id);
      if (!known || known.seq > seq) this.drawn.set(id, item);
      this.pending.delete(id);
    } else if (item.type === "erase" || item.type === "restore") {
      const known = this.toggles.get(item.stroke_id);
      if (!known || known.seq < seq) this.toggles.set(item.stroke_id, item);
    } else if (item.type === "clear") {
      this.clears.set(item.page, Math.max(this.clears.get(item.page) ?? 0, seq));
    }
    // Unknown types still count for lastSeq, so a newer server's items are not asked again.
    this.version += 1;
    return true;
  }

  /** Apply items (a join replay); return how many were new. */
  applyAll(items) {
    let changed = 0;
    for (const item of items ?? []) if (this.apply(item)) changed += 1;
    return changed;
  }

  /** Show an own stroke at once, before the server has given it a seq. */
  addPending(stroke) {
    if (this.drawn.has(stroke.id)) return;
    this.pending.set(stroke.id, stroke);
    this.version += 1;
  }

  /** Forget an own stroke that the server refused. */
  dropPending(id) {
    if (this.pending.delete(id)) this.version += 1;
  }

  /** Tell whether a stored or pending stroke is currently shown. */
  isVisible(id) {
    if (this.pending.has(id)) return true;
    const item = this.drawn.get(id);
    return Boolean(item) && this.shows(item);
  }

  /** Tell whether a stroke was hidden by an erase (the only thing a redo can bring back). */
  isErased(id) {
    return this.toggles.get(id)?.type === "erase";
  }

  /** Return the stored or pending stroke with this id. */
  get(id) {
    return this.drawn.get(id) ?? this.pending.get(id);
  }

  shows(item) {
    return item.seq > (this.clears.get(item.page) ?? 0) && !this.isErased(item.id ?? `seq:${item.seq}`);
  }

  /** Return the strokes a page shows, in drawing order: stored by seq, then pending. */
  visible(page) {
    const cached = this.cache.get(page);
    if (cached && cached.version === this.version) return cached.strokes;
    const stored = [];
    for (const item of this.drawn.values()) {
      if (item.page === page && this.shows(item)) stored.push(item);
    }
    stored.sort((a, b) => a.seq - b.seq);
    for (const stroke of this.pending.values()) if (stroke.page === page) stored.push(stroke);
    this.cache.set(page, { version: this.version, strokes: stored });
    return stored;
  }

  /** Return the number of pages: the highest page with anything on it, or added locally. */
  get pageCount() {
    let highest = this.addedPages - 1;
    for (const item of this.drawn.values()) highest = Math.max(highest, item.page);
    for (const page of this.clears.keys()) highest = Math.max(highest, page);
    for (const stroke of this.pending.values()) highest = Math.max(highest, stroke.page);
    return highest + 1;
  }

  /** Add an empty page at the end and return its index. */
  addPage() {
    this.addedPages = this.pageCount + 1;
    this.version += 1;
    return this.addedPages - 1;
  }
}

// Strokes others are drawing right now: relayed `stroke:live` messages, never stored.
// Each message carries the points since the previous one, so they are appended.
export class LiveStrokes {
  constructor(maxAgeMs = 4000) {
    this.strokes = new Map(); // stroke id -> {page, tool, color, width, points, pressures, at}
    this.maxAgeMs = maxAgeMs;
  }

  /** Append a relayed batch. */
  update(message, now) {
    const points = toPairs(message.points);
    const known = this.strokes.get(message.id);
    if (known && known.page === message.page) {
      known.points.push(...points);
      if (known.pressures && message.pressures) known.pressures.push(...message.pressures);
      known.at = now;
      return;
    }
    this.strokes.set(message.id, {
      ...message,
      points: [...points],
      pressures: message.pressures ? [...message.pressures] : undefined,
      at: now,
    });
  }

  /** Drop a live stroke: it was stored (the `stroke` broadcast arrived) or abandoned. */
  finish(id) {
    return this.strokes.delete(id);
  }

  /** Return the live strokes of a page, dropping those that stopped (the drawer left). */
  onPage(page, now) {
    const result = [];
    for (const [id, stroke] of this.strokes) {
      if (now - stroke.at > this.maxAgeMs) this.strokes.delete(id);
      else if (stroke.page === page) result.push(stroke);
    }
    return result;
  }

  get size() {
    return this.strokes.size;
  }
}

// Laser pointers: each user's recent positions, fading out. Never stored.
export class Pointers {
  constructor(fadeMs = 1200) {
    this.trails = new Map(); // user id -> [{page, x, y, at}]
    this.fadeMs = fadeMs;
  }

  /** Record a position of a user's pointer. */
  move(userId, page, x, y, now) {
    const trail = this.trails.get(userId) ?? [];
    trail.push({ page, x, y, at: now });
    this.trails.set(userId, trail);
  }

  /** Return [{x, y, alpha}] still visible on the page, oldest first; forget faded ones. */
  visible(page, now) {
    const dots = [];
    for (const [userId, trail] of this.trails) {
      const fresh = trail.filter((dot) => now - dot.at < this.fadeMs);
      if (fresh.length === 0) this.trails.delete(userId);
      else this.trails.set(userId, fresh);
      for (const dot of fresh) {
        if (dot.page === page) dots.push({ x: dot.x, y: dot.y, alpha: 1 - (now - dot.at) / this.fadeMs, userId });
      }
    }
    return dots;
  }

  get active() {
    return this.trails.size > 0;
  }
}

// Undo and redo act on one's own strokes of the current page. Undo hides the newest own
// stroke still shown; redo shows again what this client hid, newest first, until the user
// draws something new on that page (as in every drawing program).
export class History {
  constructor() {
    this.redoStacks = new Map(); // page -> [stroke ids undone here]
  }

  /** Return the id of the stroke an undo would hide, or null. */
  undoTarget(board, page, isMine) {
    const strokes = board.visible(page);
    for (let i = strokes.length - 1; i >= 0; i -= 1) {
      if (isMine(strokes[i])) return strokes[i].id;
    }
    return null;
  }

  /** Return the id of the stroke a redo would show, or null. */
  redoTarget(board, page) {
    const stack = this.redoStacks.get(page) ?? [];
    // Someone (another tab of the same user) may have restored it already.
    while (stack.length && !board.isErased(stack[stack.length - 1])) stack.pop();
    return stack.length ? stack[stack.length - 1] : null;
  }

  undone(page, id) {
    const stack = this.redoStacks.get(page) ?? [];
    stack.push(id);
    this.redoStacks.set(page, stack);
  }

  redone(page, id) {
    const stack = this.redoStacks.get(page) ?? [];
    const at = stack.lastIndexOf(id);
    if (at >= 0) stack.splice(at, 1);
  }

  drew(page) {
    this.redoStacks.delete(page);
  }
}
