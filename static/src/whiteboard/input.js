// Pointer input on the board: one finger, the mouse or a pen draws; two fingers pinch to
// zoom and pan; ctrl+wheel (or a trackpad pinch) zooms; a middle-button drag pans.
//
// Gestures are turned into calls on `actions`, in board units:
//   begin(point, pressure), move(point, pressure), end(), cancel()   a stroke
//   hover(point)                                                   mouse moves, no button
//   view(newView)                                                  pinch, pan, wheel
// `pressure` is a number only for pens that report it, null otherwise.
import { panBy, pinchView, toBoard, viewTransform, zoomAt } from "./geometry.js";

// Ignore samples closer than this on screen: more points would not make a smoother line.
const MIN_STEP_PX = 1;

export class BoardInput {
  constructor(element, { actions, getView, getSize, enabled = () => true }) {
    this.element = element;
    this.actions = actions;
    this.getView = getView;
    this.getSize = getSize;
    this.enabled = enabled;
    this.pointers = new Map(); // pointer id -> {x, y, type} in element pixels
    this.mode = "idle"; // idle | draw | pinch | pan | wait (fingers still down after a pinch)
    this.drawingId = null;
    this.pinchStart = null;
    this.penSeen = false;
    this.last = null; // last board point sent, for the minimum step
    // The browser must not scroll or zoom the page when a finger moves on the board.
    element.style.touchAction = "none";
    const on = (type, handler, options) => element.addEventListener(type, handler.bind(this), options);
    on("pointerdown", this.down);
    on("pointermove", this.moveEvent);
    on("pointerup", this.up);
    on("pointercancel", this.up);
    on("lostpointercapture", this.up);
    on("wheel", this.wheel, { passive: false });
    // A long press would open the context menu (copy image…) in the middle of drawing.
    on("contextmenu", (event) => event.preventDefault());
  }

  local(event) {
    const rect = this.element.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  boardPoint(event) {
    const [sx, sy] = this.local(event);
    const [x, y] = toBoard(viewTransform(this.getSize(), this.getView()), sx, sy);
    return [x, y];
  }

  static pressure(event) {
    // Mice report 0.5 while pressed and most touch screens 0 or 1: only pens mean it.
    return event.pointerType === "pen" && event.pressure > 0 ? event.pressure : null;
  }

  down(event) {
    if (event.pointerType === "mouse" && event.button !== 0 && event.button !== 1) return;
    const [x, y] = this.local(event);
    this.pointers.set(event.pointerId, { x, y, type: event.pointerType });
    this.element.setPointerCapture?.(event.pointerId);
    if (event.pointerType === "pen") this.penSeen = true;
    const touches = [...this.pointers.values()].filter((p) => p.type === "touch");

    if (event.pointerType === "touch" && touches.length >= 2) {
      // A second finger: this is a pinch, and the first finger's line was not meant.
      if (this.mode === "draw") this.actions.cancel();
      this.drawingId = null;
      this.startPinch();
      return;
    }
    if (this.mode !== "idle") return;
    const panning =
      (event.pointerType === "mouse" && event.button === 1) ||
      // With a pen around, a resting palm or finger moves the board instead of drawing.
      (event.pointerType === "touch" && this.penSeen) ||
      !this.enabled();
    if (panning) {
      this.mode = "pan";
      this.drawingId = event.pointerId;
      return;
    }
    event.preventDefault();
    this.mode = "draw";
    this.drawingId = event.pointerId;
    this.last = this.boardPoint(event);
    this.actions.begin(this.last, BoardInput.pressure(event));
  }

  startPinch() {
    const [a, b] = [...this.pointers.entries()].filter(([, p]) => p.type === "touch").slice(0, 2);
    this.mode = "pinch";
    this.pinchStart = {
      view: this.getView(),
      ids: [a[0], b[0]],
      a: [a[1].x, a[1].y],
      b: [b[1].x, b[1].y],
    };
  }

  moveEvent(event) {
    const known = this.pointers.get(event.pointerId);
    if (!known) {
      if (event.pointerType === "mouse" && this.mode === "idle") this.actions.hover(this.boardPoint(event));
      return;
    }
    const [x, y] = this.local(event);
    const dx = x - known.x;
    const dy = y - known.y;
    known.x = x;
    known.y = y;

    if (this.mode === "pinch") {
      const [a, b] = this.pinchStart.ids.map((id) => this.pointers.get(id));
      if (!a || !b) return;
      const s = this.pinchStart;
      this.actions.view(pinchView(this.getSize(), s.view, s.a, s.b, [a.x, a.y], [b.x, b.y]));
    } else if (this.mode === "pan" && event.pointerId === this.drawingId) {
      this.actions.view(panBy(this.getSize(), this.getView(), dx, dy));
    } else if (this.mode === "draw" && event.pointerId === this.drawingId) {
      // Coalesced events carry the samples between frames: smoother curves on fast strokes.
      const samples = event.getCoalescedEvents?.() ?? [];
      for (const sample of samples.length ? samples : [event]) this.sample(sample);
    }
  }

  sample(event) {
    const point = this.boardPoint(event);
    const { scale } = viewTransform(this.getSize(), this.getView());
    if (Math.hypot(point[0] - this.last[0], point[1] - this.last[1]) * scale < MIN_STEP_PX) return;
    this.last = point;
    this.actions.move(point, BoardInput.pressure(event));
  }

  up(event) {
    if (!this.pointers.delete(event.pointerId)) return;
    if (this.mode === "draw" && event.pointerId === this.drawingId) {
      // A cancelled pointer (the system took over) keeps nothing; a lifted one keeps the line.
      if (event.type === "pointerup") this.actions.end();
      else this.actions.cancel();
      this.mode = "idle";
      this.drawingId = null;
    } else if (this.mode === "pan" && event.pointerId === this.drawingId) {
      this.mode = "idle";
      this.drawingId = null;
    } else if (this.mode === "pinch" && this.pinchStart.ids.includes(event.pointerId)) {
      // The remaining finger must not start drawing: wait until every finger is up.
      this.mode = "wait";
    }
    if (this.mode === "wait" && this.pointers.size === 0) this.mode = "idle";
  }

  wheel(event) {
    const [sx, sy] = this.local(event);
    const view = this.getView();
    if (event.ctrlKey || event.metaKey) {
      // Trackpad pinches arrive as ctrl+wheel; deltaY is small and continuous there.
      event.preventDefault();
      this.actions.view(zoomAt(this.getSize(), view, sx, sy, Math.exp(-event.deltaY * 0.01)));
    } else if (view.zoom > 1) {
      // Zoomed in, the wheel moves around the page; at fit size it scrolls the web page.
      event.preventDefault();
      this.actions.view(panBy(this.getSize(), view, -event.deltaX, -event.deltaY));
    }
  }
}
