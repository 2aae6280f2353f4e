// upload.js: the form POST with the CSRF header and progress, against a fake XMLHttpRequest.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { csrfToken, imagesUrl, postForm, snapshotsUrl, uploadError } from "../src/whiteboard/upload.js";

class FakeXhr extends EventTarget {
  static last = null;
  constructor() {
    super();
    this.headers = {};
    this.upload = new EventTarget();
    FakeXhr.last = this;
  }
  open(method, url) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name, value) {
    this.headers[name] = value;
  }
  send(body) {
    this.body = body;
  }
  answer(status, response) {
    this.status = status;
    this.response = response;
    this.dispatchEvent(new Event("load"));
  }
}

function progress(loaded, total) {
  const event = new Event("progress");
  Object.assign(event, { lengthComputable: true, loaded, total });
  return event;
}

describe("postForm", () => {
  it("posts with the CSRF header, reports progress and resolves the JSON answer", async () => {
    const seen = [];
    const form = new FormData();
    const done = postForm("/api/v1/x", form, { csrf: "tok", Request: FakeXhr, onProgress: (f) => seen.push(f) });
    const xhr = FakeXhr.last;
    assert.equal(xhr.method, "POST");
    assert.equal(xhr.url, "/api/v1/x");
    assert.equal(xhr.headers["X-CSRFToken"], "tok");
    assert.equal(xhr.responseType, "json");
    assert.equal(xhr.body, form);
    xhr.upload.dispatchEvent(progress(25, 100));
    xhr.answer(201, { seq: 1 });
    assert.deepEqual(await done, { status: 201, body: { seq: 1 } });
    assert.deepEqual(seen, [0.25]);
  });

  for (const type of ["error", "timeout", "abort"]) {
    it(`resolves status 0 on ${type}`, async () => {
      const done = postForm("/x", new FormData(), { csrf: "", Request: FakeXhr });
      FakeXhr.last.dispatchEvent(new Event(type));
      assert.deepEqual(await done, { status: 0, body: null });
    });
  }
});

describe("helpers", () => {
  it("reads the CSRF token from the page's meta tag", () => {
    const doc = { querySelector: (selector) => (selector === 'meta[name="csrf-token"]' ? { content: "abc" } : null) };
    assert.equal(csrfToken(doc), "abc");
    assert.equal(csrfToken({ querySelector: () => null }), "");
  });

  it("builds the API addresses", () => {
    assert.equal(imagesUrl(7), "/api/v1/sessions/7/board/images");
    assert.equal(snapshotsUrl(7), "/api/v1/sessions/7/board/snapshots");
  });

  it("keeps the server's error, or makes one from the status", () => {
    const body = { error: { code: "too_large", message: "At most 10 MB.", field: "image" } };
    assert.deepEqual(uploadError(413, body), { code: "too_large", message: "At most 10 MB." });
    assert.deepEqual(uploadError(413, null), { code: "too_large", message: "" });
    assert.deepEqual(uploadError(0, null), { code: "network", message: "" });
    assert.deepEqual(uploadError(502, "<html>"), { code: "server_error", message: "" });
    assert.deepEqual(uploadError(404, null), { code: "error", message: "" });
  });
});
