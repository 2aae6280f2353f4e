// The board coordinate system and the view transform (zoom and pan). Pure functions.
//
// Every page is BOARD_WIDTH × BOARD_HEIGHT units, origin at the top left, y downwards.
// Strokes are stored in these units, so a phone and a laptop show the same drawing; the
// view only decides which part is on screen and how large. A view is
// {zoom, centerX, centerY}: the board point shown at the middle of the element, and the zoom
// relative to "the whole page fits". Keeping the centre (not a pixel offset) makes a view
// survive a resize or a phone rotation.

export const BOARD_WIDTH = 1600;
export const BOARD_HEIGHT = 1000;
export const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 8;

export const FIT_VIEW = Object.freeze({ zoom: 1, centerX: BOARD_WIDTH / 2, centerY: BOARD_HEIGHT / 2 });

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/** Return the CSS pixels per board unit at zoom 1 for an element of this size. */
export function fitScale(size) {
  return Math.min(size.width / BOARD_WIDTH, size.height / BOARD_HEIGHT) || 1;
}

/** Return {scale, x, y}: screen = board * scale + (x, y), in CSS pixels of the element. */
export function viewTransform(size, view) {
  const scale = fitScale(size) * view.zoom;
  return {
    scale,
    x: size.width / 2 - view.centerX * scale,
    y: size.height / 2 - view.centerY * scale,
  };
}

/** Convert a point in CSS pixels of the element to board units. */
export function toBoard(transform, sx, sy) {
  return [(sx - transform.x) / transform.scale, (sy - transform.y) / transform.scale];
}

/** Convert a point in board units to CSS pixels of the element. */
export function toScreen(transform, bx, by) {
  return [bx * transform.scale + transform.x, by * transform.scale + transform.y];
}

/** Keep the zoom in range and the page centre reachable, so the page cannot get lost. */
export function clampView(view) {
  return {
    zoom: clamp(view.zoom, MIN_ZOOM, MAX_ZOOM),
    centerX: clamp(view.centerX, 0, BOARD_WIDTH),
    centerY: clamp(view.centerY, 0, BOARD_HEIGHT),
  };
}

// Place the view so that board point (bx, by) is at screen point (sx, sy) at this zoom.
function anchored(size, zoom, bx, by, sx, sy) {
  const scale = fitScale(size) * zoom;
  return clampView({
    zoom,
    centerX: bx - (sx - size.width / 2) / scale,
    centerY: by - (sy - size.height / 2) / scale,
  });
}

/** Zoom by `factor` keeping the board point under (sx, sy) where it is (wheel, buttons). */
export function zoomAt(size, view, sx, sy, factor) {
  const [bx, by] = toBoard(viewTransform(size, view), sx, sy);
  const zoom = clamp(view.zoom * factor, MIN_ZOOM, MAX_ZOOM);
  return anchored(size, zoom, bx, by, sx, sy);
}

/** Move the view by a drag of (dx, dy) CSS pixels. */
export function panBy(size, view, dx, dy) {
  const { scale } = viewTransform(size, view);
  return clampView({ ...view, centerX: view.centerX - dx / scale, centerY: view.centerY - dy / scale });
}

/**
 * Return the view during a two-finger pinch: the board point that was under the middle of
 * the fingers at the start follows their middle, and the zoom follows their distance.
 * `start` is the view when the second finger landed; a0, b0 the fingers then; a, b now.
 */
export function pinchView(size, start, a0, b0, a, b) {
  const mid0 = [(a0[0] + b0[0]) / 2, (a0[1] + b0[1]) / 2];
  const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  const distance0 = Math.hypot(a0[0] - b0[0], a0[1] - b0[1]);
  const distance = Math.hypot(a[0] - b[0], a[1] - b[1]);
  const factor = distance0 > 0 ? distance / distance0 : 1;
  const [bx, by] = toBoard(viewTransform(size, start), mid0[0], mid0[1]);
  return anchored(size, clamp(start.zoom * factor, MIN_ZOOM, MAX_ZOOM), bx, by, mid[0], mid[1]);
}
