// Live batching, the outbox, the replay cursor: the timing-free parts of sync.js.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  LiveBatcher,
  Outbox,
  SeqCursor,
  newId,
  outboxKey,
  retryable,
  strokePayload,
} from "../src/whiteboard/protocol.js";

const pen = (points, extra = {}) => ({ id: "s1", page: 2, tool: "pen", color: "#1a1a1a", width: 5, points, ...extra });

class MemoryStorage {
  constructor() {
    this.data = new Map();
  }
  getItem(key) {
    return this.data.has(key) ? this.data.get(key) : null;
  }
  setItem(key, value) {
    this.data.set(key, String(value));
  }
  removeItem(key) {
    this.data.delete(key);
  }
}

describe("newId", () => {
  it("uses randomUUID, else random hex", () => {
    assert.match(newId(), /^[0-9a-f-]{36}$/);
    const hex = newId({ getRandomValues: (bytes) => bytes.fill(171) });
    assert.equal(hex, "ab".repeat(16));
    assert.match(newId({}), /^[0-9a-f]{32}$/);
    assert.ok(newId().length <= 64);
  });
});

describe("strokePayload", () => {
  it("has exactly the contract's fields, rounded points, text only for text", () => {
    const payload = strokePayload(pen([[1.23456, 2]], { text: "ignored", extra: 1 }));
    assert.deepEqual(payload, { id: "s1", page: 2, tool: "pen", color: "#1a1a1a", width: 5, points: [[1.23, 2]] });
    const text = strokePayload({ ...pen([[0, 0]]), tool: "text", text: "答え" });
    assert.equal(text.text, "答え");
  });

  it("adds pressures only when there is one per point", () => {
    assert.deepEqual(strokePayload(pen([[0, 0], [1, 1]], { pressures: [0.123, 0.5] })).pressures, [0.12, 0.5]);
    assert.equal(strokePayload(pen([[0, 0], [1, 1]], { pressures: [0.5] })).pressures, undefined);
    assert.equal(strokePayload(pen([[0, 0]], { pressures: null })).pressures, undefined);
  });
});

describe("LiveBatcher", () => {
  it("sends the points since the previous batch, and nothing when there are none", () => {
    const batcher = new LiveBatcher();
    const stroke = pen([[0, 0], [1, 1]]);
    assert.deepEqual(batcher.take(stroke).map((b) => b.points), [[[0, 0], [1, 1]]]);
    assert.deepEqual(batcher.take(stroke), []);
    stroke.points.push([2, 2], [3, 3]);
    const [batch] = batcher.take(stroke);
    assert.deepEqual(batch, { id: "s1", page: 2, tool: "pen", color: "#1a1a1a", width: 5, points: [[2, 2], [3, 3]] });
  });

  it("splits a large backlog into messages of at most 500 points", () => {
    const batcher = new LiveBatcher();
    const points = Array.from({ length: 1201 }, (_, i) => [i, i]);
    const batches = batcher.take(pen(points, { pressures: points.map(() => 0.5) }));
    assert.deepEqual(batches.map((b) => b.points.length), [500, 500, 201]);
    assert.deepEqual(batches.map((b) => b.pressures.length), [500, 500, 201]);
    assert.deepEqual(batches[1].points[0], [500, 500]);
  });

  it("sends a shape's moving corner only when it moved", () => {
    const batcher = new LiveBatcher();
    const shape = { ...pen([[0, 0], [5, 5]]), tool: "rect" };
    assert.deepEqual(batcher.take(shape)[0].points, [[0, 0], [5, 5]]);
    assert.deepEqual(batcher.take(shape), []);
    shape.points = [[0, 0], [9, 7]];
    assert.deepEqual(batcher.take(shape)[0].points, [[9, 7]]);
  });

  it("sends nothing live for text", () => {
    assert.deepEqual(new LiveBatcher().take({ ...pen([[0, 0]]), tool: "text" }), []);
  });
});

describe("Outbox", () => {
  it("keeps strokes in order in storage until removed, and survives a reload", () => {
    const storage = new MemoryStorage();
    const outbox = new Outbox(storage, outboxKey(7));
    outbox.add({ id: "a", points: [[0, 0]] });
    outbox.add({ id: "b", points: [[1, 1]] });
    assert.equal(storage.getItem("manabi.whiteboard.outbox.7").includes('"a"'), true);
    const reloaded = new Outbox(storage, outboxKey(7));
    assert.deepEqual(reloaded.list().map((s) => s.id), ["a", "b"]);
    reloaded.remove("a");
    assert.equal(reloaded.has("a"), false);
    reloaded.remove("b");
    assert.equal(storage.getItem(outboxKey(7)), null);
    assert.equal(new Outbox(storage, outboxKey(8)).size, 0);
  });

  it("works without storage, with full storage and with a corrupt entry", () => {
    const memoryOnly = new Outbox(null, "k");
    memoryOnly.add({ id: "a" });
    assert.equal(memoryOnly.size, 1);
    const full = new Outbox(
      {
        getItem: () => null,
        setItem: () => {
          throw new Error("QuotaExceededError");
        },
        removeItem: () => {},
      },
      "k",
    );
    full.add({ id: "a" });
    assert.equal(full.size, 1);
    const storage = new MemoryStorage();
    storage.setItem("k", "{not json");
    assert.equal(new Outbox(storage, "k").size, 0);
  });
});

describe("SeqCursor", () => {
  it("starts at the join reply's last_seq and moves over unbroken runs only", () => {
    const cursor = new SeqCursor();
    assert.equal(cursor.confirmed, 0);
    cursor.joined(10);
    assert.equal(cursor.confirmed, 10);
    cursor.saw(11);
    assert.equal(cursor.confirmed, 11);
    cursor.saw(13); // 12 has not arrived: a reconnect now must ask from 11
    assert.equal(cursor.confirmed, 11);
    cursor.saw(12);
    assert.equal(cursor.confirmed, 13);
    cursor.saw(5);
    assert.equal(cursor.confirmed, 13);
  });

  it("counts a broadcast that overtook the join reply", () => {
    const cursor = new SeqCursor();
    cursor.saw(105);
    assert.equal(cursor.confirmed, 0);
    cursor.joined(104);
    assert.equal(cursor.confirmed, 105);
    cursor.joined(200);
    assert.equal(cursor.confirmed, 200);
    assert.equal(cursor.ahead.size, 0);
  });

  it("tells a gap, and never moves back on an older join reply", () => {
    const cursor = new SeqCursor();
    cursor.joined(10);
    assert.equal(cursor.hasGap(), false);
    cursor.saw(12);
    assert.equal(cursor.hasGap(), true);
    cursor.saw(11);
    assert.equal(cursor.hasGap(), false);
    cursor.joined(11); // read before 12 was stored
    assert.equal(cursor.confirmed, 12);
  });
});

describe("retryable", () => {
  it("retries timeouts and rate limits, not validation errors", () => {
    assert.equal(retryable(null), true);
    assert.equal(retryable({ ok: false, error: { code: "rate_limited" } }), true);
    assert.equal(retryable({ ok: false, error: { code: "invalid", message: "points: …" } }), false);
    assert.equal(retryable({ ok: false, error: { code: "forbidden" } }), false);
  });
});
