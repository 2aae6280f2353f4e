// HTTP uploads of pictures (a photo placed on a page, a snapshot of a page) to the JSON API,
// with the page's CSRF token and upload progress. sync.js decides what to send and applies
// the answer; this module only moves a form to the server and back.

/** Return the API address of a session's board images or snapshots. */
export const imagesUrl = (sessionId) => `/api/v1/sessions/${sessionId}/board/images`;
export const snapshotsUrl = (sessionId) => `/api/v1/sessions/${sessionId}/board/snapshots`;

// A photo over a slow phone connection can take a while; after this, give up and say so.
const UPLOAD_TIMEOUT_MS = 120000;

/** Return the CSRF token the page carries for API writes with the session cookie. */
export function csrfToken(doc = globalThis.document) {
  return doc?.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/**
 * POST a FormData; resolve {status, body} (status 0: no answer; body: parsed JSON or null).
 * Never rejects. `onProgress(fraction)` follows the upload. XMLHttpRequest rather than
 * fetch: fetch cannot report upload progress. Same origin, so the session cookie goes along.
 */
export function postForm(url, form, { onProgress, csrf = csrfToken(), Request = globalThis.XMLHttpRequest } = {}) {
  return new Promise((resolve) => {
    const xhr = new Request();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    xhr.upload?.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => resolve({ status: xhr.status, body: xhr.response ?? null }));
    for (const type of ["error", "timeout", "abort"]) {
      xhr.addEventListener(type, () => resolve({ status: 0, body: null }));
    }
    xhr.send(form);
  });
}

/** Return the {code, message} of a failed upload (the server's, or one made up from the status). */
export function uploadError(status, body) {
  if (body?.error?.code) return { code: body.error.code, message: body.error.message ?? "" };
  if (status === 0) return { code: "network", message: "" };
  if (status === 413) return { code: "too_large", message: "" }; // a proxy's own limit
  return { code: status >= 500 ? "server_error" : "error", message: "" };
}
