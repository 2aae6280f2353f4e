// The item-log model: what a page shows, whatever order and however often items arrive.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Board, History, LiveStrokes, Pointers, toPairs } from "../src/whiteboard/board.js";

const stroke = (seq, id, page = 0, extra = {}) => ({
  seq,
  type: "stroke",
  id,
  page,
  tool: "pen",
  color: "#1a1a1a",
  width: 4,
  points: [[seq, seq]],
  ...extra,
});
const erase = (seq, strokeId) => ({ seq, type: "erase", stroke_id: strokeId });
const restore = (seq, strokeId) => ({ seq, type: "restore", stroke_id: strokeId });
const clear = (seq, page) => ({ seq, type: "clear", page });
const ids = (board, page = 0) => board.visible(page).map((s) => s.id);

function boardOf(items) {
  const board = new Board();
  board.applyAll(items);
  return board;
}

// A small deterministic shuffle, so failures are reproducible.
function shuffled(items, seed) {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

describe("Board", () => {
  it("shows strokes of a page in seq order", () => {
    const board = boardOf([stroke(2, "b"), stroke(1, "a"), stroke(3, "c", 1)]);
    assert.deepEqual(ids(board), ["a", "b"]);
    assert.deepEqual(ids(board, 1), ["c"]);
    assert.equal(board.lastSeq, 3);
  });

  it("hides an erased stroke and shows it again on restore", () => {
    const board = boardOf([stroke(1, "a"), stroke(2, "b"), erase(3, "a")]);
    assert.deepEqual(ids(board), ["b"]);
    assert.equal(board.isErased("a"), true);
    board.apply(restore(4, "a"));
    assert.deepEqual(ids(board), ["a", "b"]);
    board.apply(erase(5, "a"));
    assert.deepEqual(ids(board), ["b"]);
  });

  it("clears what a page had before the clear, not what came after or other pages", () => {
    const board = boardOf([stroke(1, "a"), stroke(2, "x", 1), clear(3, 0), stroke(4, "b")]);
    assert.deepEqual(ids(board), ["b"]);
    assert.deepEqual(ids(board, 1), ["x"]);
  });

  it("does not bring back a cleared stroke with restore", () => {
    const board = boardOf([stroke(1, "a"), erase(2, "a"), clear(3, 0), restore(4, "a")]);
    assert.deepEqual(ids(board), []);
  });

  it("applies an item once: repeats change nothing", () => {
    const board = new Board();
    assert.equal(board.apply(stroke(1, "a")), true);
    const version = board.version;
    assert.equal(board.apply(stroke(1, "a")), false);
    assert.equal(board.apply({ ...erase(1, "a") }), false); // same seq, whatever it says
    assert.equal(board.version, version);
    assert.equal(board.applyAll([stroke(1, "a"), stroke(2, "b"), stroke(2, "b")]), 1);
    assert.deepEqual(ids(board), ["a", "b"]);
  });

  it("ignores items without a valid seq but counts unknown types in lastSeq", () => {
    const board = new Board();
    assert.equal(board.apply({ type: "stroke", id: "a", page: 0, points: [] }), false);
    assert.equal(board.apply({ ...stroke(0, "z") }), false);
    assert.equal(board.apply(null), false);
    assert.equal(board.apply({ seq: 9, type: "sticker" }), true);
    assert.equal(board.lastSeq, 9);
    assert.deepEqual(ids(board), []);
  });

  it("keeps the first seq of an id stored twice", () => {
    const board = boardOf([stroke(5, "a", 0, { color: "#ff0000" }), stroke(2, "a", 0, { color: "#00ff00" })]);
    assert.equal(board.get("a").seq, 2);
    assert.equal(board.visible(0).length, 1);
  });

  it("gives the same pages whether replayed at once or applied one by one in any order", () => {
    const log = [
      stroke(1, "a"),
      stroke(2, "b"),
      stroke(3, "c", 1),
      erase(4, "b"),
      stroke(5, "d"),
      restore(6, "b"),
      clear(7, 1),
      stroke(8, "e", 1),
      erase(9, "d"),
      stroke(10, "f"),
      erase(11, "f"),
      restore(12, "f"),
      erase(13, "f"),
      clear(14, 0),
      stroke(15, "g"),
    ];
    const replay = boardOf(log);
    for (let seed = 1; seed <= 25; seed += 1) {
      const incremental = new Board();
      // Out of order, with every item delivered twice (a replay racing broadcasts).
      for (const item of shuffled([...log, ...log], seed)) incremental.apply(item);
      for (const page of [0, 1]) assert.deepEqual(ids(incremental, page), ids(replay, page), `seed ${seed}`);
      assert.equal(incremental.lastSeq, 15);
    }
    assert.deepEqual(ids(replay), ["g"]);
    assert.deepEqual(ids(replay, 1), ["e"]);
  });

  it("tracks lastSeq as the highest seq applied", () => {
    const board = new Board();
    assert.equal(board.lastSeq, 0);
    board.applyAll([stroke(3, "a"), stroke(1, "b")]);
    assert.equal(board.lastSeq, 3);
  });

  it("shows pending own strokes after stored ones until their seq arrives", () => {
    const board = boardOf([stroke(1, "a")]);
    board.addPending({ id: "mine", page: 0, tool: "pen", color: "#000000", width: 2, points: [[0, 0]] });
    board.apply(stroke(2, "b"));
    assert.deepEqual(ids(board), ["a", "b", "mine"]);
    assert.equal(board.isVisible("mine"), true);
    board.apply(stroke(3, "mine"));
    assert.deepEqual(ids(board), ["a", "b", "mine"]);
    assert.equal(board.pending.size, 0);
    board.addPending({ id: "refused", page: 0, points: [[0, 0]] });
    board.dropPending("refused");
    assert.deepEqual(ids(board), ["a", "b", "mine"]);
  });

  it("decodes the flat point encoding of a replay", () => {
    const board = boardOf([{ ...stroke(1, "a"), points: [1, 2, 3.5, 4] }]);
    assert.deepEqual(board.get("a").points, [
      [1, 2],
      [3.5, 4],
    ]);
    assert.deepEqual(toPairs([[1, 2]]), [[1, 2]]);
    assert.deepEqual(toPairs([]), []);
    assert.deepEqual(toPairs(undefined), []);
  });

  it("counts pages from items and from pages added locally", () => {
    const board = new Board();
    assert.equal(board.pageCount, 1);
    assert.equal(board.addPage(), 1);
    assert.equal(board.pageCount, 2);
    board.apply(stroke(1, "a", 4));
    assert.equal(board.pageCount, 5);
    board.apply(clear(2, 6));
    assert.equal(board.pageCount, 7);
  });

  it("caches a page's strokes until something changes", () => {
    const board = boardOf([stroke(1, "a")]);
    const first = board.visible(0);
    assert.equal(board.visible(0), first);
    board.apply(stroke(2, "b"));
    assert.notEqual(board.visible(0), first);
  });
});

describe("History", () => {
  const mine = (s) => s.id.startsWith("m");

  it("undoes the newest own visible stroke of the page, then redoes newest first", () => {
    const board = boardOf([stroke(1, "m1"), stroke(2, "other"), stroke(3, "m2"), stroke(4, "m3", 1)]);
    const history = new History();
    assert.equal(history.undoTarget(board, 0, mine), "m2");
    board.apply(erase(5, "m2"));
    history.undone(0, "m2");
    assert.equal(history.undoTarget(board, 0, mine), "m1");
    board.apply(erase(6, "m1"));
    history.undone(0, "m1");
    assert.equal(history.undoTarget(board, 0, mine), null);
    assert.equal(history.redoTarget(board, 0), "m1");
    board.apply(restore(7, "m1"));
    history.redone(0, "m1");
    assert.equal(history.redoTarget(board, 0), "m2");
    assert.equal(history.redoTarget(board, 1), null);
  });

  it("forgets redo after drawing and skips strokes restored elsewhere", () => {
    const board = boardOf([stroke(1, "m1"), stroke(2, "m2"), erase(3, "m1"), erase(4, "m2")]);
    const history = new History();
    history.undone(0, "m1");
    history.undone(0, "m2");
    board.apply(restore(5, "m2")); // another tab redid it
    assert.equal(history.redoTarget(board, 0), "m1");
    history.drew(0);
    assert.equal(history.redoTarget(board, 0), null);
  });
});

describe("LiveStrokes and Pointers", () => {
  it("appends live batches and forgets finished or stale strokes", () => {
    const live = new LiveStrokes(1000);
    const batch = { id: "s", page: 0, tool: "pen", color: "#000000", width: 2 };
    live.update({ ...batch, points: [[0, 0], [1, 1]] }, 0);
    live.update({ ...batch, points: [[2, 2]] }, 50);
    assert.deepEqual(live.onPage(0, 100)[0].points, [[0, 0], [1, 1], [2, 2]]);
    assert.deepEqual(live.onPage(1, 100), []);
    assert.equal(live.finish("s"), true);
    live.update({ ...batch, id: "t", points: [[0, 0]] }, 0);
    assert.deepEqual(live.onPage(0, 2000), []);
    assert.equal(live.size, 0);
  });

  it("fades pointer trails", () => {
    const pointers = new Pointers(1000);
    pointers.move(7, 0, 10, 20, 0);
    pointers.move(7, 0, 11, 21, 500);
    const dots = pointers.visible(0, 600);
    assert.equal(dots.length, 2);
    assert.ok(dots[0].alpha < dots[1].alpha);
    assert.equal(pointers.visible(0, 1600).length, 0);
    assert.equal(pointers.active, false);
  });
});
