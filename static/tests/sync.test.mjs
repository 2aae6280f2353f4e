// The socket protocol of sync.js against a fake Socket.IO socket and fake timers.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";

import { Board } from "../src/whiteboard/board.js";
import { outboxKey } from "../src/whiteboard/protocol.js";
import { NAMESPACE, WhiteboardSync } from "../src/whiteboard/sync.js";

class FakeSocket {
  constructor() {
    this.handlers = new Map();
    this.sent = []; // {event, payload, ack}
    this.connected = false;
    this.active = true;
    this.io = { on: () => {} };
  }
  on(event, handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
  }
  fire(event, ...args) {
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
  }
  timeout() {
    return { emit: (event, payload, ack) => this.sent.push({ event, payload, ack }) };
  }
  get volatile() {
    return { emit: (event, payload) => this.connected && this.sent.push({ event, payload, volatile: true }) };
  }
  emit(event, payload) {
    this.sent.push({ event, payload });
  }
  // What the server and the network do:
  up() {
    this.connected = true;
    this.fire("connect");
  }
  drop() {
    this.connected = false;
    this.fire("disconnect", "transport close");
  }
  disconnect() {
    this.connected = false;
    this.active = false;
    this.fire("disconnect", "io client disconnect");
  }
  connect() {
    this.up();
  }
  /** Return the sends of an event not yet answered, and mark them answered. */
  take(event) {
    const found = this.sent.filter((s) => s.event === event && !s.taken);
    for (const s of found) s.taken = true;
    return found;
  }
}

class FakeTimers {
  constructor() {
    this.intervals = new Set();
    this.timeouts = [];
  }
  setInterval(fn) {
    const handle = { fn };
    this.intervals.add(handle);
    return handle;
  }
  clearInterval(handle) {
    this.intervals.delete(handle);
  }
  setTimeout(fn) {
    this.timeouts.push(fn);
    return fn;
  }
  tick() {
    for (const handle of [...this.intervals]) handle.fn();
  }
  runTimeouts() {
    const due = this.timeouts;
    this.timeouts = [];
    for (const fn of due) fn();
  }
}

class MemoryStorage {
  constructor() {
    this.data = new Map();
  }
  getItem(key) {
    return this.data.get(key) ?? null;
  }
  setItem(key, value) {
    this.data.set(key, value);
  }
  removeItem(key) {
    this.data.delete(key);
  }
}

const item = (seq, id, extra = {}) => ({
  seq,
  type: "stroke",
  id,
  page: 0,
  tool: "pen",
  color: "#1a1a1a",
  width: 4,
  points: [[seq, seq]],
  author_id: 2,
  ...extra,
});
const drawn = (id, points = [[1, 2], [3, 4]]) => ({ id, page: 0, tool: "pen", color: "#1f4fbf", width: 5, points });
const flush = () => new Promise((resolve) => setImmediate(resolve));

let socket;
let timers;
let storage;
let board;
let sync;
let states;

function start(options = {}) {
  sync = new WhiteboardSync({
    sessionId: 42,
    board,
    userId: 1,
    storage,
    timers,
    connect: (namespace) => {
      assert.equal(namespace, NAMESPACE);
      return socket;
    },
    ...options,
  });
  sync.addEventListener("state", (event) => states.push(event.detail.state));
  sync.start();
  return sync;
}

function joinWith(items, lastSeq) {
  const [join] = socket.take("join");
  join.ack(null, { ok: true, board_id: "b1", last_seq: lastSeq, items });
  return join.payload;
}

beforeEach(() => {
  socket = new FakeSocket();
  timers = new FakeTimers();
  storage = new MemoryStorage();
  board = new Board();
  states = [];
});

describe("joining", () => {
  it("joins on connect, applies the replay, and reports the state", () => {
    start();
    socket.up();
    const payload = joinWith([item(1, "a"), item(2, "b")], 2);
    assert.deepEqual(payload, { session_id: 42, since: 0, encoding: "compact" });
    assert.deepEqual(board.visible(0).map((s) => s.id), ["a", "b"]);
    assert.equal(sync.state, "connected");
  });

  it("takes the compact replay: flat points, and gaps where a clear hid strokes", () => {
    start();
    socket.up();
    // Seq 1 (a stroke) was cleared by seq 2, so the server left it out.
    joinWith(
      [
        { seq: 2, type: "clear", page: 0, author_id: 1 },
        { ...item(3, "c"), points: [1, 2, 3, 4.5] },
      ],
      3,
    );
    assert.deepEqual(board.visible(0).map((s) => [s.id, s.points]), [["c", [[1, 2], [3, 4.5]]]]);
    assert.equal(sync.cursor.confirmed, 3);
    socket.drop();
    socket.up();
    assert.equal(socket.take("join")[0].payload.since, 3);
  });

  it("joins again after every reconnect, asking only for what it missed", () => {
    start();
    socket.up();
    joinWith([item(1, "a"), item(2, "b")], 2);
    socket.fire("stroke", item(3, "c"));
    socket.drop();
    assert.equal(sync.state, "reconnecting");
    socket.up();
    assert.deepEqual(joinWith([item(4, "d")], 4), { session_id: 42, since: 3, encoding: "compact" });
    assert.deepEqual(board.visible(0).map((s) => s.id), ["a", "b", "c", "d"]);
    socket.drop();
    socket.up();
    assert.deepEqual(socket.take("join")[0].payload, { session_id: 42, since: 4, encoding: "compact" });
  });

  it("asks again from before a gap rather than from the highest seq seen", () => {
    start();
    socket.up();
    joinWith([], 10);
    socket.fire("stroke", item(12, "x")); // 11 is still on its way
    socket.drop();
    socket.up();
    assert.equal(socket.take("join")[0].payload.since, 10);
  });

  it("tells the proxy its board in the handshake, so a board's people share a process", () => {
    const calls = [];
    start({
      connect: (...args) => {
        calls.push(args);
        return socket;
      },
    });
    assert.deepEqual(calls, [[NAMESPACE, { query: { board: "42" } }]]);
  });

  it("joins again from before a seq that stays missing, without leaving the room", () => {
    start();
    socket.up();
    joinWith([item(1, "a")], 1);
    socket.fire("stroke", item(3, "c")); // 2 was lost on its way
    assert.equal(socket.take("join").length, 0); // it may still be coming: wait first
    timers.runTimeouts();
    const [again] = socket.take("join");
    assert.deepEqual(again.payload, { session_id: 42, since: 1, encoding: "compact" });
    again.ack(null, { ok: true, board_id: "b1", last_seq: 3, items: [item(2, "b"), item(3, "c")] });
    assert.deepEqual(board.visible(0).map((s) => s.id), ["a", "b", "c"]);
    assert.equal(sync.cursor.confirmed, 3);
    assert.ok(!states.includes("reconnecting")); // nobody saw the board reconnect
    timers.runTimeouts();
    assert.equal(socket.take("join").length, 0);
  });

  it("needs no join when the missing seq arrives late, as an ack or a broadcast", () => {
    start();
    socket.up();
    joinWith([], 0);
    sync.endStroke(drawn("mine"));
    socket.fire("stroke", item(2, "theirs")); // overtook the ack of our own stroke
    socket.take("stroke")[0].ack(null, { ok: true, seq: 1 });
    socket.fire("stroke", item(4, "x"));
    socket.fire("stroke", item(3, "y"));
    timers.runTimeouts();
    assert.equal(socket.take("join").length, 0);
    assert.equal(sync.cursor.confirmed, 4);
  });

  it("tries the gap again after no answer, and stops when the room refuses", () => {
    start();
    socket.up();
    joinWith([], 1);
    socket.fire("stroke", item(3, "c"));
    timers.runTimeouts();
    socket.take("join")[0].ack(new Error("timeout"));
    timers.runTimeouts();
    socket.take("join")[0].ack(null, { ok: false, error: { code: "room_closed", message: "Closed." } });
    assert.equal(sync.state, "connected"); // the board stays as it is
    timers.runTimeouts();
    socket.fire("stroke", item(5, "e"));
    timers.runTimeouts();
    assert.equal(socket.take("join").length, 0);
    socket.drop();
    socket.up();
    assert.equal(socket.take("join")[0].payload.since, 1); // a reconnect asks for it anyway
  });

  it("stops and says so when the room refuses", () => {
    start();
    socket.up();
    socket.take("join")[0].ack(null, { ok: false, error: { code: "forbidden", message: "Not your session." } });
    assert.equal(sync.state, "refused");
    assert.equal(socket.active, false);
  });

  it("retries a join that got no answer", () => {
    start();
    socket.up();
    socket.take("join")[0].ack(new Error("timeout"));
    timers.runTimeouts();
    assert.equal(socket.take("join").length, 1);
  });
});

describe("strokes", () => {
  it("sends live batches every tick while drawing, then the stroke", () => {
    start();
    socket.up();
    joinWith([], 0);
    const stroke = drawn("s1", [[0, 0]]);
    sync.beginStroke(stroke);
    stroke.points.push([1, 1], [2, 2]);
    timers.tick();
    stroke.points.push([3, 3]);
    timers.tick();
    timers.tick(); // nothing new: nothing sent
    const live = socket.take("stroke:live");
    assert.deepEqual(live.map((s) => s.payload.points), [[[0, 0], [1, 1], [2, 2]], [[3, 3]]]);
    assert.ok(live.every((s) => s.volatile));
    sync.endStroke(stroke);
    assert.equal(timers.intervals.size, 0);
    const [sent] = socket.take("stroke");
    assert.deepEqual(sent.payload, { ...drawn("s1"), points: [[0, 0], [1, 1], [2, 2], [3, 3]] });
    assert.deepEqual(board.visible(0).map((s) => s.id), ["s1"]); // shown before the ack
  });

  it("keeps a stroke in the outbox until acked and applies it with its seq", () => {
    start();
    socket.up();
    joinWith([], 0);
    sync.endStroke(drawn("s1"));
    assert.equal(JSON.parse(storage.getItem(outboxKey(42))).length, 1);
    socket.take("stroke")[0].ack(null, { ok: true, seq: 1 });
    assert.equal(storage.getItem(outboxKey(42)), null);
    assert.equal(board.get("s1").seq, 1);
    assert.equal(board.get("s1").author_id, 1);
    assert.equal(sync.cursor.confirmed, 1);
  });

  it("resends the outbox after a reconnect, and after a reload", () => {
    start();
    socket.up();
    joinWith([], 0);
    sync.endStroke(drawn("s1"));
    socket.take("stroke"); // lost with the connection
    socket.drop();
    sync.endStroke(drawn("s2")); // drawn while offline
    assert.equal(socket.take("stroke").length, 0);
    socket.up();
    joinWith([], 0);
    assert.deepEqual(socket.take("stroke").map((s) => s.payload.id), ["s1", "s2"]);

    // A reload: a new page with the same sessionStorage.
    socket = new FakeSocket();
    board = new Board();
    start();
    assert.deepEqual(board.visible(0).map((s) => s.id), ["s1", "s2"]);
    socket.up();
    joinWith([item(1, "s1")], 1); // s1 had reached the server after all
    assert.deepEqual(socket.take("stroke").map((s) => s.payload.id), ["s1", "s2"]);
  });

  it("ignores an ack from before a reconnect", () => {
    start();
    socket.up();
    joinWith([], 0);
    sync.endStroke(drawn("s1"));
    const [old] = socket.take("stroke");
    socket.drop();
    socket.up();
    joinWith([], 0);
    const [again] = socket.take("stroke");
    old.ack(new Error("timeout"));
    assert.ok(sync.inFlight.has("s1"));
    again.ack(null, { ok: true, seq: 1 });
    assert.equal(sync.outbox.size, 0);
  });

  it("retries a rate-limited stroke and drops an invalid one", () => {
    start();
    socket.up();
    joinWith([], 0);
    const failures = [];
    sync.addEventListener("failed", (event) => failures.push(event.detail.code));
    sync.endStroke(drawn("s1"));
    sync.endStroke(drawn("bad"));
    const [first, bad] = socket.take("stroke");
    first.ack(null, { ok: false, error: { code: "rate_limited", message: "Slow down." } });
    bad.ack(null, { ok: false, error: { code: "invalid", message: "points: …" } });
    assert.deepEqual(failures, ["invalid"]);
    assert.equal(board.isVisible("bad"), false);
    assert.deepEqual(sync.outbox.list().map((s) => s.id), ["s1"]);
    timers.runTimeouts();
    assert.deepEqual(socket.take("stroke").map((s) => s.payload.id), ["s1"]);
  });

  it("sends a long outbox a few strokes at a time", () => {
    start();
    for (let i = 0; i < 20; i += 1) sync.endStroke(drawn(`s${i}`));
    socket.up();
    joinWith([], 0);
    const first = socket.take("stroke");
    assert.equal(first.length, 8);
    first[0].ack(null, { ok: true, seq: 1 });
    assert.deepEqual(socket.take("stroke").map((s) => s.payload.id), ["s8"]);
  });
});

describe("broadcasts", () => {
  it("applies stroke, erase, restore and clear, and ends the live preview", () => {
    start();
    socket.up();
    joinWith([], 0);
    socket.fire("stroke:live", { id: "x", page: 0, tool: "pen", color: "#000000", width: 2, points: [[0, 0]] });
    assert.equal(sync.live.size, 1);
    const { type, ...broadcast } = item(1, "x");
    socket.fire("stroke", broadcast);
    assert.equal(sync.live.size, 0);
    socket.fire("stroke", { ...item(2, "y"), type: undefined });
    socket.fire("erase", { seq: 3, stroke_id: "x" });
    assert.deepEqual(board.visible(0).map((s) => s.id), ["y"]);
    socket.fire("restore", { seq: 4, stroke_id: "x" });
    assert.deepEqual(board.visible(0).map((s) => s.id), ["x", "y"]);
    socket.fire("clear", { seq: 5, page: 0 });
    assert.deepEqual(board.visible(0), []);
    assert.equal(sync.cursor.confirmed, 5);
    assert.equal(type, "stroke");
  });

  it("shows others' pointers", () => {
    start();
    socket.up();
    joinWith([], 0);
    socket.fire("pointer", { user_id: 9, page: 0, x: 10, y: 20 });
    assert.equal(sync.pointers.visible(0, Date.now()).length, 1);
  });
});

describe("undo, redo, clear, pointer", () => {
  it("waits for the stroke's ack before undoing it, then applies the erase", async () => {
    start();
    socket.up();
    joinWith([], 0);
    sync.endStroke(drawn("s1"));
    const undone = sync.undo("s1");
    await flush();
    assert.equal(socket.take("undo").length, 0); // the stroke is not stored yet
    socket.take("stroke")[0].ack(null, { ok: true, seq: 1 });
    await flush();
    const [undo] = socket.take("undo");
    assert.deepEqual(undo.payload, { stroke_id: "s1" });
    undo.ack(null, { ok: true, seq: 2 });
    assert.equal(await undone, true);
    assert.equal(board.isVisible("s1"), false);

    const redone = sync.redo("s1");
    await flush();
    const [redo] = socket.take("redo");
    assert.deepEqual(redo.payload, { stroke_id: "s1" });
    redo.ack(null, { ok: true, seq: 3 });
    assert.equal(await redone, true);
    assert.equal(board.isVisible("s1"), true);
  });

  it("clears a page, and sends nothing while offline", async () => {
    start();
    socket.up();
    joinWith([item(1, "a")], 1);
    const cleared = sync.clear(0);
    socket.take("clear")[0].ack(null, { ok: true, seq: 2 });
    assert.equal(await cleared, true);
    assert.deepEqual(board.visible(0), []);
    socket.drop();
    assert.equal(await sync.clear(0), false);
    assert.equal(socket.take("clear").length, 0);
  });

  it("sends the pointer at most once per tick, latest position first", () => {
    start();
    socket.up();
    joinWith([], 0);
    sync.pointer(0, 1, 1);
    sync.pointer(0, 2, 2);
    sync.pointer(0, 3.333, 3);
    assert.deepEqual(socket.take("pointer").map((s) => s.payload), [{ page: 0, x: 1, y: 1 }]);
    timers.tick();
    assert.deepEqual(socket.take("pointer").map((s) => s.payload), [{ page: 0, x: 3.3, y: 3 }]);
    timers.tick(); // nothing new: the timer stops
    assert.equal(timers.intervals.size, 0);
  });

  it("knows its own strokes by id and by author", () => {
    start();
    sync.endStroke(drawn("mine"));
    assert.equal(sync.isMine({ id: "mine" }), true);
    assert.equal(sync.isMine({ id: "old", author_id: 1 }), true);
    assert.equal(sync.isMine({ id: "theirs", author_id: 2 }), false);
  });
});

describe("pictures", () => {
  const image = (seq, id, extra = {}) => ({
    seq,
    type: "image",
    id,
    page: 0,
    author_id: 2,
    src: `/whiteboard/images/42/${id}.jpg`,
    x: 0,
    y: 100,
    w: 1600,
    h: 800,
    ...extra,
  });

  // A fake server for postForm: records each request and answers from a list.
  function fakePost(answers) {
    const requests = [];
    const post = async (url, form, { onProgress } = {}) => {
      requests.push({ url, fields: Object.fromEntries(form.entries()) });
      onProgress?.(0.5);
      return answers.shift();
    };
    return { post, requests };
  }

  it("applies an image broadcast like any stored item", () => {
    start();
    socket.up();
    joinWith([item(1, "a")], 1);
    socket.fire("image", image(2, "photo"));
    socket.fire("image", image(2, "photo")); // our own upload's echo: a repeat
    assert.deepEqual(board.visible(0).map((s) => [s.type, s.id]), [
      ["stroke", "a"],
      ["image", "photo"],
    ]);
    socket.drop();
    socket.up();
    assert.equal(socket.take("join")[0].payload.since, 2);
  });

  it("uploads a photo with its page and an id, then shows the stored item", async () => {
    const stored = image(3, "ignored");
    const { post, requests } = fakePost([{ status: 201, body: stored }]);
    start({ post });
    const progress = [];
    const file = new Blob(["jpeg bytes"], { type: "image/jpeg" });
    const result = await sync.uploadImage(file, 1, { onProgress: (f) => progress.push(f) });
    assert.deepEqual(result, { ok: true, item: stored });
    assert.equal(requests.length, 1);
    assert.equal(requests[0].url, "/api/v1/sessions/42/board/images");
    assert.equal(requests[0].fields.page, "1");
    assert.match(requests[0].fields.id, /^[0-9a-f-]{32,36}$/);
    assert.equal(await requests[0].fields.image.text(), "jpeg bytes");
    assert.deepEqual(progress, [0.5]);
    assert.deepEqual(board.visible(0).map((s) => s.id), ["ignored"]);
    assert.equal(sync.isMine({ id: "ignored" }), true); // so undo can take it back
  });

  it("retries an upload that got no answer with the same id", async () => {
    const { post, requests } = fakePost([
      { status: 0, body: null },
      { status: 200, body: image(1, "p") },
    ]);
    start({ post });
    const uploading = sync.uploadImage(new Blob(["x"]), 0);
    await flush();
    assert.equal(requests.length, 1);
    timers.runTimeouts();
    const result = await uploading;
    assert.equal(result.ok, true);
    assert.equal(requests.length, 2);
    assert.equal(requests[1].fields.id, requests[0].fields.id);
  });

  it("gives up after the retries, and reports the server's refusal at once", async () => {
    const refusal = { error: { code: "invalid", message: "Choose a PNG or JPEG picture.", field: "image" } };
    const { post, requests } = fakePost([{ status: 400, body: refusal }]);
    start({ post });
    assert.deepEqual(await sync.uploadImage(new Blob(["text"]), 0), {
      ok: false,
      error: { code: "invalid", message: "Choose a PNG or JPEG picture." },
    });
    assert.equal(requests.length, 1);
    assert.equal(board.visible(0).length, 0);

    const offline = fakePost([0, 1, 2].map(() => ({ status: 0, body: null })));
    sync.post = offline.post;
    const uploading = sync.uploadImage(new Blob(["x"]), 0);
    for (let i = 0; i < 3; i += 1) {
      await flush();
      timers.runTimeouts();
    }
    assert.deepEqual(await uploading, { ok: false, error: { code: "network", message: "" } });
    assert.equal(offline.requests.length, 3);
  });

  it("posts a snapshot of a page and reports the result", async () => {
    const snapshot = { id: 5, session_id: 42, page: 2, src: "/whiteboard/images/42/s.png" };
    const { post, requests } = fakePost([
      { status: 201, body: snapshot },
      { status: 403, body: { error: { code: "room_closed", message: "The room is not open now." } } },
    ]);
    start({ post });
    const png = new Blob(["png"], { type: "image/png" });
    assert.deepEqual(await sync.uploadSnapshot(png, 2), { ok: true, snapshot });
    assert.equal(requests[0].url, "/api/v1/sessions/42/board/snapshots");
    assert.equal(requests[0].fields.page, "2");
    assert.equal(requests[0].fields.snapshot.name, "page-3.png");
    const refused = await sync.uploadSnapshot(png, 2);
    assert.equal(refused.error.code, "room_closed");
    assert.equal(board.items.size, 0); // a snapshot is not a board item
  });
});
