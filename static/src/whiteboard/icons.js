// Toolbar icons: 24×24 outline paths, drawn in the text colour. Decorative only: every
// button carries its name as an accessible label, so the icons are hidden from readers.
const PATHS = {
  pen: "M4 20l1-5L16 4l4 4L9 19zM14 6l4 4",
  highlighter: "M5 20h6M8 16l-2 4M8 16l9-9 3 3-9 9zM14 10l3 3",
  eraser: "M8 20h12M4 15l9-9 6 6-8 8H8zM9 10l6 6",
  line: "M5 19L19 5",
  rect: "M4 6h16v12H4z",
  ellipse: "M12 6c4.4 0 8 2.7 8 6s-3.6 6-8 6-8-2.7-8-6 3.6-6 8-6z",
  text: "M5 6V4h14v2M12 4v16M9 20h6",
  laser: "M12 9a3 3 0 1 1 0 6 3 3 0 0 1 0-6zM12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2",
  undo: "M9 14L4 9l5-5M4 9h10a6 6 0 0 1 0 12h-3",
  redo: "M15 14l5-5-5-5M20 9H10a6 6 0 0 0 0 12h3",
  clear: "M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3",
  export: "M12 4v11M7 10l5 5 5-5M5 20h14",
  photo: "M3 8h4l2-3h6l2 3h4v11H3zM12 10a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7z",
  snapshot: "M4 4h16v16H4zM4 15l4-4 4 4 3-3 5 5M15 8h.01",
  previous: "M15 5l-7 7 7 7",
  next: "M9 5l7 7-7 7",
  add: "M12 5v14M5 12h14",
  fit: "M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5",
  check: "M5 12l5 5 9-10",
  connected: "M5 12l5 5 9-10",
  waiting: "M12 3a9 9 0 1 0 9 9M12 7v5l3 3",
  offline: "M4 4l16 16M9 17a4 4 0 0 1 6 0M5.5 13a9 9 0 0 1 4-2.4M14.5 10.6a9 9 0 0 1 4 2.4M2 9a14 14 0 0 1 4.5-2.8M12 5.5a14 14 0 0 1 10 3.5",
};

const SVG = "http://www.w3.org/2000/svg";

/** Return an inline SVG icon element, hidden from assistive technology. */
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "24");
  svg.setAttribute("height", "24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("wb-icon");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PATHS[name] ?? PATHS.check);
  svg.append(path);
  return svg;
}
