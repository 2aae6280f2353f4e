// The room's note panel: saves the session's note through the JSON API, so the video call
// and the whiteboard go on. Without scripts the form posts normally and returns to the room.

const PREFIX = "note-";
const FIELDS = ["subject", "material", "pages", "body", "homework", "next_steps"];

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function payload(form) {
  const data = new FormData(form);
  const body = { session_id: Number(form.dataset.sessionId) };
  for (const name of FIELDS) body[name] = String(data.get(PREFIX + name) || "");
  body.visibility = data.get(PREFIX + "visibility") || null;
  return body;
}

function clearErrors(form) {
  for (const field of form.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
  }
}

function showError(form, status, error) {
  status.textContent = error && error.message ? error.message : form.dataset.textFailed;
  const field = error && error.field ? form.querySelector(`[name="${PREFIX}${error.field}"]`) : null;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

async function save(form, status, button) {
  const noteUrl = form.dataset.noteUrl;
  let response;
  try {
    response = await fetch(noteUrl || form.dataset.apiUrl, {
      method: noteUrl ? "PATCH" : "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(payload(form)),
    });
  } catch {
    showError(form, status, null);
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    showError(form, status, body.error);
    return;
  }
  form.dataset.noteUrl = `${form.dataset.apiUrl}/${body.id}`;
  button.textContent = form.dataset.textUpdate;
  const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  status.textContent = form.dataset.textSaved.replace("{time}", time);
}

function setUp(form) {
  const status = form.querySelector("[data-note-status]");
  const button = form.querySelector("[data-note-submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    button.disabled = true;
    status.textContent = "";
    try {
      await save(form, status, button);
    } finally {
      button.disabled = false;
    }
  });
}

for (const form of document.querySelectorAll("[data-note-form]")) setUp(form);
