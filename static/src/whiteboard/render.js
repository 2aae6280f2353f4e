// Drawing the board: a page's strokes on the ink canvas, strokes in progress and laser
// pointers on the overlay canvas above it, and the white page (a div) below both.
//
// Everything is drawn in board units (geometry.js) through one transform, scaled by
// devicePixelRatio, so a phone and a laptop show the same drawing, sharp on both.
// The ink canvas is transparent: the eraser removes ink (destination-out) and the page
// shows through, as on paper. The ink is redrawn only when the page's strokes or the view
// change; the overlay is cheap and is redrawn every frame while something moves.
import { BOARD_HEIGHT, BOARD_WIDTH, FIT_VIEW, viewTransform } from "./geometry.js";

export const PAPER = "#ffffff";
export const HIGHLIGHTER_ALPHA = 0.35;
const LASER = "230, 0, 38";

/** Return the font size (board units) of a text item written with this width. */
export const textSize = (width) => 8 + width * 3;

const FONT = 'system-ui, -apple-system, "Hiragino Sans", "Noto Sans JP", "Yu Gothic UI", sans-serif';

// Smooth a freehand line: quadratic curves through the midpoints between samples, with the
// samples as control points, so corners between pointer events do not show.
function tracePath(ctx, points) {
  ctx.moveTo(points[0][0], points[0][1]);
  if (points.length === 2) {
    ctx.lineTo(points[1][0], points[1][1]);
    return;
  }
  for (let i = 1; i < points.length - 1; i += 1) {
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    ctx.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
  }
  const last = points[points.length - 1];
  ctx.lineTo(last[0], last[1]);
}

// Pen with pressure: the same curve, drawn piece by piece so each piece can have its own
// width; round caps hide the joins.
function tracePressure(ctx, points, pressures, width) {
  const widthAt = (i) => width * (0.3 + 1.4 * (pressures[i] ?? 0.5));
  const mid = (i) => [(points[i][0] + points[i + 1][0]) / 2, (points[i][1] + points[i + 1][1]) / 2];
  let from = points[0];
  for (let i = 1; i < points.length; i += 1) {
    const to = i === points.length - 1 ? points[i] : mid(i);
    ctx.beginPath();
    ctx.lineWidth = widthAt(i);
    ctx.moveTo(from[0], from[1]);
    if (i === points.length - 1) ctx.lineTo(to[0], to[1]);
    else ctx.quadraticCurveTo(points[i][0], points[i][1], to[0], to[1]);
    ctx.stroke();
    from = to;
  }
}

function isDot(points) {
  return points.every(([x, y]) => x === points[0][0] && y === points[0][1]);
}

/**
 * Draw one stroke on a context transformed to board units. `preview` draws the eraser as
 * white paint: an eraser in progress sits on the overlay, where there is no ink to remove.
 */
export function drawStroke(ctx, stroke, { preview = false } = {}) {
  const points = stroke.points;
  if (!points?.length) return;
  ctx.save();
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = stroke.width;
  ctx.strokeStyle = ctx.fillStyle = stroke.color;
  if (stroke.tool === "highlighter") {
    ctx.globalAlpha = HIGHLIGHTER_ALPHA;
    ctx.globalCompositeOperation = "multiply"; // ink under a highlighter stays legible
  } else if (stroke.tool === "eraser") {
    if (preview) {
      ctx.strokeStyle = ctx.fillStyle = PAPER;
      ctx.globalAlpha = 0.9;
    } else {
      ctx.strokeStyle = ctx.fillStyle = "#000";
      ctx.globalCompositeOperation = "destination-out";
    }
  }
  const [x0, y0] = points[0];
  const [x1, y1] = points[points.length - 1];
  switch (stroke.tool) {
    case "line":
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
      break;
    case "rect":
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      break;
    case "ellipse":
      ctx.beginPath();
      ctx.ellipse((x0 + x1) / 2, (y0 + y1) / 2, Math.abs(x1 - x0) / 2, Math.abs(y1 - y0) / 2, 0, 0, 2 * Math.PI);
      ctx.stroke();
      break;
    case "text": {
      const size = textSize(stroke.width);
      ctx.font = `${size}px ${FONT}`;
      ctx.textBaseline = "top";
      (stroke.text ?? "").split("\n").forEach((line, i) => ctx.fillText(line, x0, y0 + i * size * 1.25));
      break;
    }
    default:
      // pen, highlighter, eraser: freehand
      if (isDot(points)) {
        ctx.beginPath();
        ctx.arc(x0, y0, stroke.width / 2, 0, 2 * Math.PI);
        ctx.fill();
      } else if (stroke.tool === "pen" && stroke.pressures?.length === points.length) {
        tracePressure(ctx, points, stroke.pressures, stroke.width);
      } else {
        ctx.beginPath();
        tracePath(ctx, points);
        ctx.stroke();
      }
  }
  ctx.restore();
}

// Images (a future background or pasted picture): {src, x, y, w, h} in board units.
const images = new Map();
function drawImage(ctx, item, onLoad) {
  let image = images.get(item.src);
  if (!image) {
    image = new Image();
    image.addEventListener("load", onLoad, { once: true });
    image.src = item.src;
    images.set(item.src, image);
  }
  if (image.complete && image.naturalWidth) ctx.drawImage(image, item.x, item.y, item.w, item.h);
}

function drawItems(ctx, items, onImageLoad) {
  for (const item of items) {
    if (item.type === "image") drawImage(ctx, item, onImageLoad);
    else drawStroke(ctx, item);
  }
}

export class Renderer {
  constructor(stage, { board, live, pointers, label }) {
    this.stage = stage;
    this.board = board;
    this.live = live;
    this.pointers = pointers;
    this.paper = document.createElement("div");
    this.paper.className = "wb-paper";
    this.ink = document.createElement("canvas");
    this.ink.className = "wb-ink";
    this.ink.setAttribute("role", "img");
    this.ink.setAttribute("aria-label", label);
    this.overlay = document.createElement("canvas");
    this.overlay.className = "wb-overlay";
    this.overlay.setAttribute("aria-hidden", "true");
    stage.append(this.paper, this.ink, this.overlay);
    this.view = { ...FIT_VIEW };
    this.page = 0;
    this.local = null; // own stroke in progress
    this.size = { width: 1, height: 1 };
    this.dpr = 1;
    this.drawn = { key: "", strokes: [] };
    this.frame = 0;
    this.resize();
  }

  /** Measure the stage again (resize, rotation, zoom of the browser). */
  resize() {
    const width = Math.max(1, this.stage.clientWidth);
    const height = Math.max(1, this.stage.clientHeight);
    const dpr = globalThis.devicePixelRatio || 1;
    if (width === this.size.width && height === this.size.height && dpr === this.dpr) return;
    this.size = { width, height };
    this.dpr = dpr;
    for (const canvas of [this.ink, this.overlay]) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    this.drawn.key = "";
    this.request();
  }

  setView(view) {
    this.view = view;
    this.request();
  }

  setPage(page) {
    this.page = page;
    this.request();
  }

  /** Show (or with null, stop showing) the user's own stroke in progress. */
  setLocal(stroke) {
    this.local = stroke;
    this.request();
  }

  /** Draw on the next animation frame (many changes in one frame draw once). */
  request() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  transform() {
    return viewTransform(this.size, this.view);
  }

  draw() {
    this.frame = 0;
    const t = this.transform();
    this.paper.style.transform = `translate(${t.x}px, ${t.y}px) scale(${t.scale})`;
    this.drawInk(t);
    if (this.drawOverlay(t)) this.request(); // pointers are fading: keep animating
  }

  useBoardUnits(ctx, t) {
    ctx.setTransform(this.dpr * t.scale, 0, 0, this.dpr * t.scale, this.dpr * t.x, this.dpr * t.y);
  }

  drawInk(t) {
    const strokes = this.board.visible(this.page);
    const { zoom, centerX, centerY } = this.view;
    const key = [this.page, zoom, centerX, centerY, this.size.width, this.size.height, this.dpr].join("|");
    const ctx = this.ink.getContext("2d");
    const before = this.drawn.strokes;
    if (this.drawn.key === key && strokes === before) return;
    // A stroke added on top (the common case) is drawn alone; anything else redraws the page.
    const appended =
      this.drawn.key === key && strokes.length >= before.length && before.every((s, i) => strokes[i] === s);
    this.useBoardUnits(ctx, t);
    if (!appended) {
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, this.ink.width, this.ink.height);
      ctx.restore();
    }
    drawItems(ctx, appended ? strokes.slice(before.length) : strokes, () => {
      this.drawn.key = "";
      this.request();
    });
    this.drawn = { key, strokes };
  }

  drawOverlay(t) {
    const ctx = this.overlay.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    this.useBoardUnits(ctx, t);
    const now = Date.now();
    const live = this.live.onPage(this.page, now);
    for (const stroke of live) drawStroke(ctx, stroke, { preview: true });
    if (this.local && this.local.tool !== "laser") drawStroke(ctx, this.local, { preview: true });
    const dots = this.pointers.visible(this.page, now);
    for (const dot of dots) {
      // A constant size on screen, whatever the zoom.
      const radius = (5 + 4 * dot.alpha) / t.scale;
      ctx.beginPath();
      ctx.arc(dot.x, dot.y, radius, 0, 2 * Math.PI);
      ctx.fillStyle = `rgba(${LASER}, ${dot.alpha})`;
      ctx.fill();
      ctx.lineWidth = 1.5 / t.scale;
      ctx.strokeStyle = `rgba(255, 255, 255, ${dot.alpha})`;
      ctx.stroke();
    }
    return dots.length > 0 || live.length > 0;
  }

  /** Return a PNG of a page at `scale` × the board size, on white. */
  exportPng(page, scale = 1) {
    const width = BOARD_WIDTH * scale;
    const height = BOARD_HEIGHT * scale;
    const ink = document.createElement("canvas");
    ink.width = width;
    ink.height = height;
    const inkCtx = ink.getContext("2d");
    inkCtx.setTransform(scale, 0, 0, scale, 0, 0);
    drawItems(inkCtx, this.board.visible(page), () => {});
    // The eraser leaves transparent holes in the ink; the white page goes underneath.
    const sheet = document.createElement("canvas");
    sheet.width = width;
    sheet.height = height;
    const ctx = sheet.getContext("2d");
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(ink, 0, 0);
    return new Promise((resolve) => sheet.toBlob(resolve, "image/png"));
  }
}
