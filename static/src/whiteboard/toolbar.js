// The whiteboard toolbar: tools, colours, widths, undo/redo, clear, photo, snapshot, export,
// pages.
// Buttons only: every one has a visible icon and an accessible name from the page's
// strings, and toggles report their state with aria-pressed, not with colour alone.
import { icon } from "./icons.js";

export const TOOLS = ["pen", "highlighter", "eraser", "line", "rect", "ellipse", "text", "laser"];

// Named colours: the name is what a screen reader (and a colour-blind user) goes by.
export const COLORS = [
  { name: "black", value: "#1a1a1a" },
  { name: "blue", value: "#1f4fbf" },
  { name: "red", value: "#d32f2f" },
  { name: "green", value: "#2e7d32" },
  { name: "yellow", value: "#f9a825" },
  { name: "purple", value: "#7b1fa2" },
];

export const WIDTHS = [
  { name: "thin", value: 2 },
  { name: "medium", value: 5 },
  { name: "thick", value: 10 },
];

let styleCount = 0;

/** Return the stroke width a tool draws with at a width setting (broad tools are broader). */
export function toolWidth(tool, width) {
  return tool === "highlighter" || tool === "eraser" ? Math.min(64, width * 4) : width;
}

function button(t, { key, iconName, className = "", onClick }) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `wb-button ${className}`.trim();
  element.setAttribute("aria-label", t(key));
  element.title = t(key);
  if (iconName) element.append(icon(iconName));
  element.addEventListener("click", onClick);
  return element;
}

function group(t, key, children, className = "") {
  const element = document.createElement("div");
  element.className = `wb-group ${className}`.trim();
  element.setAttribute("role", "group");
  element.setAttribute("aria-label", t(key));
  element.append(...children);
  return element;
}

// The photo button opens the device's picker through a file input kept out of sight (the
// button is the one control people and screen readers see). No `capture` attribute: with it,
// phones open the camera only, and a worksheet already photographed, or a screenshot of a
// PDF, could not be chosen; without it, iOS and Android offer the camera in the same menu.
function photoPicker(t, onFile) {
  const input = document.createElement("input");
  input.type = "file";
  input.accept = "image/*"; // iOS hands over its HEIC photos as JPEG
  input.className = "visually-hidden";
  input.tabIndex = -1;
  input.setAttribute("aria-hidden", "true");
  input.addEventListener("change", () => {
    const [file] = input.files ?? [];
    input.value = ""; // choosing the same photo again must fire "change" again
    if (file) onFile(file);
  });
  const open = button(t, { key: "photo_add", iconName: "photo", onClick: () => input.click() });
  return { button: open, input };
}

/**
 * Build the toolbar. `options`: {canDraw, canClear, canSnapshot}; `on`: handlers tool(name),
 * color(value), width(value), undo(), redo(), clear(), photo(file), snapshot(), exportPng(),
 * fit(), previous(), next(), addPage().
 * Returns {element, update(state)} where state has tool, color, width, page, pageCount,
 * canUndo, canRedo, online, uploading.
 */
export function createToolbar(t, { canDraw, canClear, canSnapshot = false }, on) {
  const element = document.createElement("div");
  element.className = "wb-toolbar";
  const pressedGroups = { tool: new Map(), color: new Map(), width: new Map() };
  const actions = {};
  let style = null;
  let styleChip = null;
  let styleDot = null;

  if (canDraw) {
    const tools = TOOLS.map((name) => {
      const b = button(t, { key: `tool_${name}`, iconName: name, onClick: () => on.tool(name) });
      pressedGroups.tool.set(name, b);
      return b;
    });
    const colors = COLORS.map(({ name, value }) => {
      const b = button(t, { key: `color_${name}`, className: "wb-swatch", onClick: () => on.color(value) });
      const chip = document.createElement("span");
      chip.className = "wb-chip";
      chip.style.background = value;
      chip.append(icon("check")); // the chosen colour shows a check mark as well as a ring
      b.append(chip);
      pressedGroups.color.set(value, b);
      return b;
    });
    const widths = WIDTHS.map(({ name, value }) => {
      const b = button(t, { key: `width_${name}`, className: "wb-width", onClick: () => on.width(value) });
      const dot = document.createElement("span");
      dot.className = "wb-dot";
      dot.style.width = dot.style.height = `${4 + value * 1.6}px`;
      b.append(dot);
      pressedGroups.width.set(value, b);
      return b;
    });
    actions.undo = button(t, { key: "undo", iconName: "undo", onClick: () => on.undo() });
    actions.redo = button(t, { key: "redo", iconName: "redo", onClick: () => on.redo() });
    // On phones colours and widths fold behind one button, so the board keeps its height;
    // wide screens show them inline and hide the button (whiteboard.css).
    style = document.createElement("div");
    style.className = "wb-style";
    style.id = `wb-style-${(styleCount += 1)}`;
    style.append(group(t, "colors_label", colors, "wb-colors"), group(t, "widths_label", widths, "wb-widths"));
    const toggleStyle = () => setStyleOpen(!styleOpen);
    actions.style = button(t, { key: "style_label", className: "wb-style-toggle", onClick: toggleStyle });
    actions.style.setAttribute("aria-expanded", "false");
    actions.style.setAttribute("aria-controls", style.id);
    styleChip = document.createElement("span");
    styleChip.className = "wb-chip";
    styleDot = document.createElement("span");
    styleDot.className = "wb-dot";
    styleChip.append(styleDot);
    actions.style.append(styleChip);
    style.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        setStyleOpen(false);
        actions.style.focus();
      }
    });
    element.append(group(t, "tools_label", tools, "wb-tools"), style);
  }

  let styleOpen = false;
  function setStyleOpen(open) {
    if (!style) return;
    styleOpen = open;
    style.classList.toggle("open", open);
    actions.style.setAttribute("aria-expanded", String(open));
  }

  const edit = [];
  if (canDraw) edit.push(actions.style, actions.undo, actions.redo);
  if (canDraw && canClear) {
    actions.clear = button(t, { key: "clear_page", iconName: "clear", onClick: () => on.clear() });
    edit.push(actions.clear);
  }
  if (canDraw) {
    const picker = photoPicker(t, (file) => on.photo(file));
    actions.photo = picker.button;
    edit.push(actions.photo, picker.input);
  }
  if (canSnapshot) {
    actions.snapshot = button(t, { key: "snapshot_save", iconName: "snapshot", onClick: () => on.snapshot() });
    edit.push(actions.snapshot);
  }
  edit.push(
    button(t, { key: "zoom_fit", iconName: "fit", onClick: () => on.fit() }),
    button(t, { key: "export_png", iconName: "export", onClick: () => on.exportPng() }),
  );
  element.append(group(t, "actions_label", edit, "wb-actions"));

  actions.previous = button(t, { key: "page_previous", iconName: "previous", onClick: () => on.previous() });
  actions.next = button(t, { key: "page_next", iconName: "next", onClick: () => on.next() });
  const pageLabel = document.createElement("span");
  pageLabel.className = "wb-page-label";
  const pages = [actions.previous, pageLabel, actions.next];
  if (canDraw) pages.push(button(t, { key: "page_add", iconName: "add", onClick: () => on.addPage() }));
  element.append(group(t, "pages_label", pages, "wb-pages"));

  // Called right after building and on every change: it also sets the initial aria-pressed.
  function update(state) {
    const press = (map, current) => {
      for (const [value, b] of map) b.setAttribute("aria-pressed", String(value === current));
    };
    press(pressedGroups.tool, state.tool);
    press(pressedGroups.color, state.color);
    press(pressedGroups.width, state.width);
    if (actions.undo) actions.undo.disabled = !state.canUndo;
    if (actions.redo) actions.redo.disabled = !state.canRedo;
    if (actions.clear) actions.clear.disabled = !state.online;
    // One picture at a time; uploads go over HTTP, so they do not wait for the socket.
    if (actions.photo) actions.photo.disabled = Boolean(state.uploading);
    if (actions.snapshot) actions.snapshot.disabled = Boolean(state.uploading);
    actions.previous.disabled = state.page <= 0;
    actions.next.disabled = state.page >= state.pageCount - 1;
    pageLabel.textContent = t("page_of", { page: state.page + 1, pages: state.pageCount });
    if (styleChip) {
      styleChip.style.background = state.color;
      styleDot.style.width = styleDot.style.height = `${4 + state.width * 1.2}px`;
    }
  }

  return { element, update, closeStyle: () => setStyleOpen(false) };
}
