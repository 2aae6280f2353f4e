// Entry point of the whiteboard: mounts every [data-whiteboard] element of the page.
// Wires the model (board.js), the connection (sync.js), drawing (render.js), pointer
// input (input.js) and the toolbar (toolbar.js). README.md lists what the page provides.
import { Board, History } from "./board.js";
import { FIT_VIEW, toScreen } from "./geometry.js";
import { icon } from "./icons.js";
import { BoardInput } from "./input.js";
import { LIMITS, SHAPES, newId } from "./protocol.js";
import { Renderer } from "./render.js";
import { readStrings } from "./strings.js";
import { WhiteboardSync } from "./sync.js";
import { COLORS, WIDTHS, createToolbar, toolWidth } from "./toolbar.js";

const BANNER_ICONS = {
  connecting: "waiting",
  connected: "connected",
  reconnecting: "waiting",
  refused: "offline",
  failed: "offline",
  busy: "waiting",
  done: "connected",
  archived: "connected",
};
const CONNECTED_NOTICE_MS = 3000;
const FAILED_NOTICE_MS = 8000;

function element(tag, className, attributes = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** Build and start the whiteboard in `root`; return its sync object (for tests). */
export function mount(root) {
  const t = readStrings(root);
  const sessionId = Number(root.dataset.sessionId);
  if (!Number.isInteger(sessionId) || sessionId < 1) {
    console.error("whiteboard: data-session-id must be a session id");
    return null;
  }
  const role = root.dataset.role || "learner";
  const canDraw = root.dataset.readOnly !== "true";
  const canClear = role === "tutor" || role === "coordinator";
  // Snapshots are kept for the tutor's study notes; the tutor (or a coordinator) saves them.
  const canSnapshot = canClear;
  const userId = root.dataset.userId ? Number(root.dataset.userId) : null;

  const board = new Board();
  const history = new History();
  const sync = new WhiteboardSync({ sessionId, board, userId });
  const state = {
    tool: "pen",
    color: COLORS[0].value,
    width: WIDTHS[1].value,
    page: 0,
    busy: false,
    uploading: false,
  };
  let view = { ...FIT_VIEW };
  let current = null; // own stroke in progress

  // Layout: the toolbar, then the drawing surface (with the status banner) below it.
  for (const fallback of root.querySelectorAll("[data-whiteboard-fallback]")) fallback.remove();
  root.classList.add("wb");
  root.setAttribute("role", "region");
  root.setAttribute("aria-label", t("label"));
  const banner = element("div", "wb-banner", { role: "status" });
  const bannerIcon = element("span", "wb-banner-icon");
  const bannerText = element("span", "wb-banner-text");
  banner.append(bannerIcon, bannerText);
  const surface = element("div", "wb-surface");
  const stage = element("div", "wb-stage");
  const textForm = buildTextForm(t);
  // The banner floats over the board: appearing and going, it must not move the board
  // under a finger that is drawing.
  surface.append(stage, banner, textForm.element);

  const renderer = new Renderer(stage, { board, live: sync.live, pointers: sync.pointers, label: t("canvas_label") });
  const toolbar = createToolbar(t, { canDraw, canClear, canSnapshot }, {
    tool: (tool) => {
      state.tool = tool;
      refresh();
    },
    color: (color) => {
      state.color = color;
      refresh();
    },
    width: (width) => {
      state.width = width;
      refresh();
    },
    undo,
    redo,
    clear,
    photo: addPhoto,
    snapshot: saveSnapshot,
    exportPng,
    fit: () => setView({ ...FIT_VIEW }),
    previous: () => setPage(state.page - 1),
    next: () => setPage(state.page + 1),
    addPage: () => setPage(board.addPage()),
  });
  root.append(toolbar.element, surface);
  stage.addEventListener("pointerdown", () => toolbar.closeStyle(), { capture: true });

  function refresh() {
    const online = sync.state === "connected";
    const mine = (stroke) => sync.isMine(stroke);
    toolbar.update({
      ...state,
      pageCount: board.pageCount,
      online,
      canUndo: online && !state.busy && history.undoTarget(board, state.page, mine) !== null,
      canRedo: online && !state.busy && history.redoTarget(board, state.page) !== null,
    });
    root.dataset.tool = state.tool; // the CSS picks the cursor from it
    // What the board holds and shows, readable from outside (support staff, browser tests).
    root.dataset.connection = sync.state;
    root.dataset.lastSeq = String(board.lastSeq);
    root.dataset.shown = board.visible(state.page).map((stroke) => stroke.id).join(" ");
  }

  function setView(next) {
    view = next;
    renderer.setView(view);
  }

  function setPage(page) {
    if (page < 0 || page >= board.pageCount) return;
    actions.cancel();
    textForm.close();
    state.page = page;
    renderer.setPage(page);
    refresh();
  }

  // Drawing: input.js reports gestures in board units; strokes go to sync.js when done.
  function startStroke(point, pressure) {
    current = {
      id: newId(),
      page: state.page,
      tool: state.tool,
      color: state.color,
      width: toolWidth(state.tool, state.width),
      points: [point],
      pressures: pressure === null ? null : [pressure],
    };
    renderer.setLocal(current);
    sync.beginStroke(current);
  }

  function finishStroke() {
    if (!current) return;
    sync.endStroke(current);
    history.drew(current.page);
    current = null;
    renderer.setLocal(null);
    refresh();
  }

  const actions = {
    begin(point, pressure) {
      if (state.tool === "laser") sync.pointer(state.page, point[0], point[1]);
      else if (state.tool === "text") textForm.open(point);
      else startStroke(point, pressure);
    },
    move(point, pressure) {
      if (state.tool === "laser") {
        sync.pointer(state.page, point[0], point[1]);
        return;
      }
      if (!current) return;
      if (SHAPES.has(current.tool)) {
        current.points = [current.points[0], point]; // a shape is its corners
      } else {
        current.points.push(point);
        current.pressures?.push(pressure ?? 0.5);
        if (current.points.length >= LIMITS.points) {
          // The contract caps a stroke; a very long one continues as a new stroke.
          finishStroke();
          startStroke(point, pressure);
        }
      }
      renderer.request();
    },
    end: finishStroke,
    cancel() {
      if (!current) return;
      sync.cancelStroke();
      current = null;
      renderer.setLocal(null);
    },
    hover(point) {
      if (state.tool === "laser" && canDraw) sync.pointer(state.page, point[0], point[1]);
    },
    view: setView,
  };
  new BoardInput(stage, { actions, getView: () => view, getSize: () => renderer.size, enabled: () => canDraw });

  textForm.onSubmit((point, text) => {
    sync.endStroke({
      id: newId(),
      page: state.page,
      tool: "text",
      color: state.color,
      width: state.width,
      points: [point],
      text,
    });
    history.drew(state.page);
    refresh();
  });
  textForm.place = (point) => toScreen(renderer.transform(), point[0], point[1]);

  async function undo() {
    const target = history.undoTarget(board, state.page, (stroke) => sync.isMine(stroke));
    if (!target || state.busy) return;
    await busy(async () => {
      if (await sync.undo(target)) history.undone(state.page, target);
    });
  }

  async function redo() {
    const target = history.redoTarget(board, state.page);
    if (!target || state.busy) return;
    await busy(async () => {
      if (await sync.redo(target)) history.redone(state.page, target);
    });
  }

  async function clear() {
    if (state.busy || !globalThis.confirm(t("clear_confirm"))) return;
    await busy(() => sync.clear(state.page));
  }

  // One request at a time: a double tap on undo must not undo two strokes.
  async function busy(work) {
    state.busy = true;
    refresh();
    try {
      await work();
    } finally {
      state.busy = false;
      refresh();
    }
  }

  // Pictures go over HTTP; the banner shows how far, then the result (or the server's reason).
  async function uploading(work) {
    if (state.uploading) return;
    state.uploading = true;
    refresh();
    try {
      await work();
    } finally {
      state.uploading = false;
      refresh();
    }
  }

  function failed(key, error) {
    showBanner("failed", error?.message ? `${t(key)} ${error.message}` : t(key));
  }

  function addPhoto(file) {
    const page = state.page;
    return uploading(async () => {
      showBanner("busy", t("photo_uploading", { percent: 0 }));
      // In steps of 10%: the banner is a live region, and a reader would read every change.
      let shown = 0;
      const onProgress = (fraction) => {
        const percent = Math.floor(fraction * 10) * 10;
        if (percent === shown || banner.dataset.state !== "busy") return;
        shown = percent;
        bannerText.textContent = t("photo_uploading", { percent });
      };
      const result = await sync.uploadImage(file, page, { onProgress });
      if (result.ok) showBanner("done", t("photo_added"));
      else failed("photo_failed", result.error);
    });
  }

  function saveSnapshot() {
    const page = state.page;
    return uploading(async () => {
      showBanner("busy", t("snapshot_saving"));
      const png = await renderer.exportPng(page, 1);
      const result = png ? await sync.uploadSnapshot(png, page) : { ok: false };
      if (result.ok) showBanner("done", t("snapshot_saved"));
      else failed("snapshot_failed", result.error);
    });
  }

  async function exportPng() {
    const blob = await renderer.exportPng(state.page, 2);
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const filename = t("export_filename", { session: sessionId, page: state.page + 1 });
    const link = element("a", "", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // Connection banner: words and an icon, never colour alone; quiet once things work.
  let bannerTimer = 0;
  function showBanner(kind, text) {
    clearTimeout(bannerTimer);
    banner.dataset.state = kind;
    bannerIcon.replaceChildren(icon(BANNER_ICONS[kind]));
    bannerText.textContent = text;
    banner.hidden = false;
    const shownFor = { connected: CONNECTED_NOTICE_MS, done: CONNECTED_NOTICE_MS, failed: FAILED_NOTICE_MS }[kind];
    if (shownFor) bannerTimer = setTimeout(() => (banner.dataset.state = "idle"), shownFor);
  }

  sync.addEventListener("state", ({ detail }) => {
    const { state: connection, message, unsent } = detail;
    if (connection === "connected") {
      // Say so only when it was not connected before: the state is also re-sent whenever
      // the outbox changes, and must not replace a failure message.
      if (["connecting", "reconnecting", "refused"].includes(banner.dataset.state)) {
        showBanner("connected", t("status_connected"));
      }
    } else {
      let text = t(`status_${connection}`);
      if (connection === "refused" && message) text = `${text} ${message}`;
      if (unsent > 0) text = `${text} ${t("status_unsent", { count: unsent })}`;
      showBanner(connection, text);
    }
    refresh();
  });
  sync.addEventListener("failed", ({ detail }) => {
    showBanner("failed", detail.message ? `${t("status_failed")} ${detail.message}` : t("status_failed"));
  });
  sync.addEventListener("change", () => {
    renderer.request();
    refresh();
  });
  sync.addEventListener("live", () => renderer.request());

  root.addEventListener("keydown", (event) => {
    if (!canDraw || !(event.ctrlKey || event.metaKey) || event.target.closest("textarea, input")) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) undo();
    else if ((key === "z" && event.shiftKey) || key === "y") redo();
    else return;
    event.preventDefault();
  });

  if (globalThis.ResizeObserver) new ResizeObserver(() => renderer.resize()).observe(stage);
  else globalThis.addEventListener("resize", () => renderer.resize());

  showBanner("connecting", t("status_connecting"));
  refresh();
  // An earlier session's board is shown read only from its stored items; a live one connects.
  if (root.dataset.itemsUrl) sync.load(root.dataset.itemsUrl);
  else sync.start();
  return sync;
}

// The text tool asks for the text in a small form over the board, where the user tapped.
function buildTextForm(t) {
  const form = element("form", "wb-text");
  form.hidden = true;
  const label = element("label", "wb-text-label");
  const caption = element("span");
  caption.textContent = t("text_prompt");
  const input = element("textarea", "input", { rows: "2", maxlength: String(LIMITS.textLength) });
  label.append(caption, input);
  const buttons = element("div", "wb-text-buttons");
  const ok = element("button", "button button-primary", { type: "submit" });
  ok.textContent = t("text_add");
  const cancel = element("button", "button", { type: "button" });
  cancel.textContent = t("text_cancel");
  buttons.append(ok, cancel);
  form.append(label, buttons);

  let point = null;
  let submit = () => {};
  const api = {
    element: form,
    place: () => [0, 0],
    open(at) {
      point = at;
      input.value = "";
      form.hidden = false;
      const [x, y] = api.place(at);
      const parent = form.parentElement;
      // Near the tap, but inside the board so the buttons stay reachable.
      form.style.left = `${Math.max(0, Math.min(x, parent.clientWidth - form.offsetWidth))}px`;
      form.style.top = `${Math.max(0, Math.min(y, parent.clientHeight - form.offsetHeight))}px`;
      input.focus();
    },
    close() {
      form.hidden = true;
      point = null;
    },
    onSubmit(handler) {
      submit = handler;
    },
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.replace(/\s+$/, "");
    if (text.trim() && point) submit(point, text.slice(0, LIMITS.textLength));
    api.close();
  });
  cancel.addEventListener("click", () => api.close());
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") api.close();
  });
  return api;
}

for (const root of document.querySelectorAll("[data-whiteboard]")) mount(root);
