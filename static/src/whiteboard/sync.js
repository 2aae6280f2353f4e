// The /whiteboard Socket.IO protocol of CONTRACT.md: join and replay, live batches, the
// outbox of strokes until acknowledged, broadcasts, undo/redo/clear, laser pointer; and the
// pictures, which go over HTTP (upload.js) and come back as `image` items.
//
// Events dispatched (an EventTarget): "state" {state, message, unsent}, "change" (the
// board changed), "live" (others' live strokes or pointers moved), "failed" {code, message}.
// States: connecting, connected (joined), reconnecting, refused (not allowed: no retry).
import { connect as defaultConnect } from "../common/realtime.js";
import { LiveStrokes, Pointers } from "./board.js";
import { LiveBatcher, Outbox, SeqCursor, newId, outboxKey, retryable, strokePayload } from "./protocol.js";
import { imagesUrl, postForm, snapshotsUrl, uploadError } from "./upload.js";

export const NAMESPACE = "/whiteboard";
const LIVE_INTERVAL_MS = 50;
const POINTER_INTERVAL_MS = 50;
const ACK_TIMEOUT_MS = 10000;
const RETRY_MS = 3000;
// How long a missing seq may stay missing before the client joins again to fetch it. Items
// may arrive out of order for a moment (an ack and others' broadcasts, through different
// server processes), so a gap is only a loss once it outlasts this.
const GAP_MS = 2000;
// Strokes in flight at once when emptying the outbox, so a long offline drawing is resent
// steadily instead of in one burst the server's flood guard would refuse.
const MAX_IN_FLIGHT = 8;
// A photo upload that got no answer is sent again (with the same id: stored once) this often.
const UPLOAD_RETRIES = 2;

function sessionStore() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage blocked by the browser's privacy settings
  }
}

export class WhiteboardSync extends EventTarget {
  constructor({
    sessionId,
    board,
    userId = null,
    storage = sessionStore(),
    connect = defaultConnect,
    post = postForm,
    timers = globalThis,
    now = () => Date.now(),
  }) {
    super();
    this.sessionId = sessionId;
    this.board = board;
    this.userId = userId;
    this.connectFn = connect;
    this.post = post;
    this.timers = timers;
    this.now = now;
    this.live = new LiveStrokes();
    this.pointers = new Pointers();
    this.cursor = new SeqCursor();
    this.outbox = new Outbox(storage, outboxKey(sessionId));
    this.inFlight = new Map(); // stroke id -> token of the send awaiting its ack
    this.waiters = new Map(); // stroke id -> callbacks waiting for its ack (an undo)
    this.ownIds = new Set(this.outbox.list().map((stroke) => stroke.id));
    this.state = "connecting";
    this.joined = false;
    this.drawing = null; // {stroke, batcher, timer}
    this.pointerTimer = null;
    this.pointerNext = null;
    this.retryTimer = null;
    this.gapTimer = null;
    this.resyncing = false;
    this.resyncRefused = false;
    this.sendToken = 0;
    // Strokes left over from before a reload are shown at once and sent after joining.
    for (const stroke of this.outbox.list()) board.addPending(stroke);
  }

  /** Open the connection and start following the board. */
  start() {
    // The board in the handshake's query (`?board=<session id>`) lets the proxy send everyone
    // of a board to the same server process (deploy/nginx.conf: `hash $arg_board`), where the
    // room's messages need not cross Redis.
    const socket = this.connectFn(NAMESPACE, { query: { board: String(this.sessionId) } });
    this.socket = socket;
    // "connect" fires on the first connection and again after every reconnection: joining
    // each time is what makes the room talk to us again after a network drop.
    socket.on("connect", () => this.join());
    socket.on("disconnect", (reason) => this.disconnected(reason));
    socket.on("connect_error", (error) => {
      // Not active any more means the server refused the connection itself (no session).
      if (!socket.active) this.setState("refused", error?.message);
      else this.setState("reconnecting");
    });
    socket.io?.on?.("reconnect_attempt", () => this.setState("reconnecting"));
    socket.on("stroke", (item) => this.received({ ...item, type: "stroke" }));
    socket.on("erase", (item) => this.received({ ...item, type: "erase" }));
    socket.on("restore", (item) => this.received({ ...item, type: "restore" }));
    socket.on("clear", (item) => this.received({ ...item, type: "clear" }));
    // Extension of CONTRACT.md: a photo placed on a page by someone (also by us, from the
    // upload's answer: whichever comes first is applied, the other is a repeat).
    socket.on("image", (item) => this.received({ ...item, type: "image" }));
    socket.on("stroke:live", (message) => {
      if (!message || typeof message.id !== "string") return;
      this.live.update(message, this.now());
      this.dispatch("live");
    });
    socket.on("pointer", (message) => {
      if (!message) return;
      this.pointers.move(message.user_id ?? "?", message.page, message.x, message.y, this.now());
      this.dispatch("live");
    });
  }

  /** Show an earlier session's board: fetch its items once, without a connection (read only). */
  async load(url, fetchFn = globalThis.fetch) {
    this.setState("connecting");
    try {
      const response = await fetchFn(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      const body = await response.json();
      for (const item of body.items ?? []) this.board.apply(item);
      this.setState("archived");
      this.dispatch("change");
    } catch (error) {
      this.setState("refused", error?.message);
    }
  }

  /** Say goodbye (presence ends) and close the connection. */
  stop() {
    this.endLive();
    this.timers.clearInterval(this.pointerTimer);
    this.pointerTimer = null;
    if (this.socket?.connected) this.socket.emit("leave", {});
    this.socket?.disconnect();
  }

  // Connection and replay.

  join() {
    this.joined = false;
    this.resyncRefused = false;
    this.inFlight.clear();
    this.setState(this.state === "connecting" ? "connecting" : "reconnecting");
    const socket = this.socket;
    socket.timeout(ACK_TIMEOUT_MS).emit(
      "join",
      // Extension of CONTRACT.md: the compact replay (flat points, nothing a clear hid);
      // board.js reads both forms.
      { session_id: this.sessionId, since: this.cursor.confirmed, encoding: "compact" },
      (error, ack) => {
        if (!socket.connected) return; // the next "connect" joins again
        if (error) {
          this.timers.setTimeout(() => socket.connected && !this.joined && this.join(), RETRY_MS);
          return;
        }
        if (!ack?.ok) {
          // Not allowed in the room (or the room is closed): reconnecting will not help.
          this.setState("refused", ack?.error?.message);
          socket.disconnect();
          return;
        }
        for (const item of ack.items ?? []) this.board.apply(item);
        this.cursor.joined(ack.last_seq);
        this.joined = true;
        this.setState("connected");
        this.dispatch("change");
        this.flush();
        this.watchGap();
      },
    );
  }

  /** Record a seq received outside a join reply, and look out for one that never comes. */
  saw(seq) {
    this.cursor.saw(seq);
    this.watchGap();
  }

  /**
   * When a seq stays missing, join again from before it (`since`), without leaving the room:
   * a broadcast was lost, e.g. one sent while this client's server process was joining the
   * room (tutoring/realtime.py), and only a later item shows it. Applying items is idempotent.
   */
  watchGap() {
    if (this.gapTimer || !this.cursor.hasGap()) return;
    const mark = this.cursor.confirmed;
    this.gapTimer = this.timers.setTimeout(() => {
      this.gapTimer = null;
      if (this.cursor.hasGap() && this.cursor.confirmed === mark) this.resync();
      else this.watchGap();
    }, GAP_MS);
  }

  resync() {
    if (!this.joined || !this.socket.connected || this.resyncing || this.resyncRefused) return;
    this.resyncing = true;
    this.socket.timeout(ACK_TIMEOUT_MS).emit(
      "join",
      { session_id: this.sessionId, since: this.cursor.confirmed, encoding: "compact" },
      (error, ack) => {
        this.resyncing = false;
        if (!this.joined) return; // disconnected meanwhile: the next join asks anyway
        if (!error && !ack?.ok) {
          // E.g. the room has closed since: keep the board as it is, ask again after a reconnect.
          this.resyncRefused = true;
          return;
        }
        if (!error) {
          for (const item of ack.items ?? []) this.board.apply(item);
          this.cursor.joined(ack.last_seq);
          this.dispatch("change");
        }
        this.watchGap(); // still missing (no answer): try again later
      },
    );
  }

  disconnected(reason) {
    this.joined = false;
    this.inFlight.clear();
    if (reason === "io server disconnect" || reason === "io client disconnect") {
      // The server dropped us (a flood, a closed room): Socket.IO will not retry by itself.
      if (this.state !== "refused" && reason === "io server disconnect") {
        this.setState("reconnecting");
        this.timers.setTimeout(() => this.socket.connect(), RETRY_MS);
      }
      return;
    }
    if (this.state !== "refused") this.setState("reconnecting");
  }

  received(item) {
    if (item.type === "stroke") this.live.finish(item.id);
    if (this.board.apply(item)) {
      this.saw(item.seq);
      this.dispatch("change");
    }
  }

  // Drawing: live batches while the pen is down, then the stroke through the outbox.

  /** Start sending a stroke in progress; `stroke.points` grows as the user draws. */
  beginStroke(stroke) {
    this.endLive();
    const batcher = new LiveBatcher();
    const timer = this.timers.setInterval(() => this.sendLive(), LIVE_INTERVAL_MS);
    this.drawing = { stroke, batcher, timer };
  }

  sendLive() {
    if (!this.drawing || !this.joined) return;
    for (const batch of this.drawing.batcher.take(this.drawing.stroke)) {
      // Volatile: a live batch that cannot go now is worthless later.
      this.socket.volatile.emit("stroke:live", batch);
    }
  }

  endLive() {
    if (!this.drawing) return;
    this.timers.clearInterval(this.drawing.timer);
    this.drawing = null;
  }

  /** Stop a stroke without storing it (a second finger came: it was a pinch). */
  cancelStroke() {
    this.endLive();
  }

  /** Store a finished stroke: shown at once, kept in the outbox until the server acks it. */
  endStroke(stroke) {
    this.endLive();
    const payload = strokePayload(stroke);
    this.ownIds.add(payload.id);
    this.board.addPending(payload);
    this.outbox.add(payload);
    this.dispatch("change");
    this.flush();
  }

  /** Send outbox strokes not yet in flight, a few at a time. */
  flush() {
    if (this.joined) {
      for (const payload of this.outbox.list()) {
        if (this.inFlight.size >= MAX_IN_FLIGHT) break;
        if (!this.inFlight.has(payload.id)) this.send(payload);
      }
    }
    this.setState(this.state); // the unsent count may have changed
  }

  send(payload) {
    const token = (this.sendToken += 1);
    const socket = this.socket;
    this.inFlight.set(payload.id, token);
    socket.timeout(ACK_TIMEOUT_MS).emit("stroke", payload, (error, ack) => {
      // An answer on an older connection or to an older send: the current one decides.
      if (this.inFlight.get(payload.id) !== token) return;
      this.inFlight.delete(payload.id);
      if (!error && ack?.ok) {
        this.outbox.remove(payload.id);
        const item = { ...payload, seq: ack.seq, type: "stroke", author_id: this.userId };
        if (this.board.apply(item)) this.saw(ack.seq);
        this.settle(payload.id, true);
        this.dispatch("change");
        this.flush();
        return;
      }
      if (retryable(error ? null : ack)) {
        this.scheduleRetry();
        return;
      }
      // Refused for good (invalid, not allowed): keeping it would resend it forever.
      this.outbox.remove(payload.id);
      this.board.dropPending(payload.id);
      this.settle(payload.id, false);
      this.dispatch("failed", ack?.error ?? {});
      this.dispatch("change");
      this.flush();
    });
  }

  scheduleRetry() {
    if (this.retryTimer) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.flush();
    }, RETRY_MS);
  }

  settle(id, stored) {
    for (const resolve of this.waiters.get(id) ?? []) resolve(stored);
    this.waiters.delete(id);
  }

  /** Resolve true once an own stroke is stored, false if the server refused it. */
  stored(id) {
    if (!this.outbox.has(id)) return Promise.resolve(this.board.drawn.has(id));
    return new Promise((resolve) => {
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]);
    });
  }

  /** Tell whether a stroke was drawn by this user (here, in another tab, or before a reload). */
  isMine(stroke) {
    return this.ownIds.has(stroke.id) || (this.userId != null && stroke.author_id === this.userId);
  }

  // Undo, redo, clear: acknowledged requests, applied when the server has stored them.

  /** Hide an own stroke; resolve whether the server did. */
  async undo(strokeId) {
    return this.toggle("undo", "erase", strokeId);
  }

  /** Show an own stroke hidden by undo; resolve whether the server did. */
  async redo(strokeId) {
    return this.toggle("redo", "restore", strokeId);
  }

  async toggle(event, type, strokeId) {
    // An undo of a stroke still in the outbox would be refused: wait for the stroke's ack.
    if (!(await this.stored(strokeId))) return false;
    const ack = await this.request(event, { stroke_id: strokeId });
    if (!ack?.ok) return false;
    this.received({ seq: ack.seq, type, stroke_id: strokeId });
    return true;
  }

  /** Clear a page for everyone (tutors and coordinators); resolve whether it was done. */
  async clear(page) {
    const ack = await this.request("clear", { page });
    if (!ack?.ok) return false;
    this.received({ seq: ack.seq, type: "clear", page });
    return true;
  }

  request(event, payload) {
    // Never let Socket.IO buffer these while offline: a clear sent minutes later would
    // surprise everyone. The buttons are disabled meanwhile anyway.
    if (!this.joined || !this.socket.connected) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (error, ack) => {
        if (ack && !ack.ok) this.dispatch("failed", ack.error ?? {});
        resolve(error ? null : ack);
      });
    });
  }

  // Pictures: over HTTP, since a photo is too big for a socket message.

  /**
   * Place a photo (a File or Blob) on a page; resolve {ok: true, item} once it is stored and
   * shown, or {ok: false, error: {code, message}}. `onProgress(fraction)` follows the upload.
   */
  async uploadImage(file, page, { onProgress } = {}) {
    const id = newId(); // the same for every attempt: a retry that did arrive is not stored twice
    for (let attempt = 0; ; attempt += 1) {
      const form = new FormData();
      form.append("page", String(page));
      form.append("id", id);
      form.append("image", file, file.name || "photo");
      const { status, body } = await this.post(imagesUrl(this.sessionId), form, { onProgress });
      if ((status === 200 || status === 201) && Number.isInteger(body?.seq)) {
        this.ownIds.add(body.id);
        this.received({ ...body, type: "image" });
        return { ok: true, item: body };
      }
      if (status === 0 && attempt < UPLOAD_RETRIES) {
        await new Promise((resolve) => this.timers.setTimeout(resolve, RETRY_MS));
        continue;
      }
      return { ok: false, error: uploadError(status, body) };
    }
  }

  /** Keep a PNG (a Blob) of a page for the study notes; resolve {ok, snapshot} or {ok, error}. */
  async uploadSnapshot(png, page) {
    const form = new FormData();
    form.append("page", String(page));
    form.append("snapshot", png, `page-${page + 1}.png`);
    const { status, body } = await this.post(snapshotsUrl(this.sessionId), form, {});
    if (status === 201 && body?.id) return { ok: true, snapshot: body };
    return { ok: false, error: uploadError(status, body) };
  }

  // Laser pointer: at most one message per interval, the latest position wins.

  /** Move this user's laser pointer. */
  pointer(page, x, y) {
    this.pointers.move("me", page, x, y, this.now());
    this.dispatch("live");
    this.pointerNext = { page, x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10 };
    if (this.pointerTimer) return;
    this.sendPointer();
    this.pointerTimer = this.timers.setInterval(() => {
      if (!this.pointerNext) {
        this.timers.clearInterval(this.pointerTimer);
        this.pointerTimer = null;
        return;
      }
      this.sendPointer();
    }, POINTER_INTERVAL_MS);
  }

  sendPointer() {
    if (this.joined && this.pointerNext) this.socket.volatile.emit("pointer", this.pointerNext);
    this.pointerNext = null;
  }

  // Notifications.

  setState(state, message = "") {
    this.state = state;
    this.dispatch("state", { state, message: message ?? "", unsent: this.outbox.size });
  }

  dispatch(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
