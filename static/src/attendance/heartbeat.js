// Page presence for attendance: "joined" when the room page opens, a heartbeat every 30 s
// while it stays open, "left" when it is closed. The server closes an interval whose
// heartbeats stop (browser killed, phone offline) at the last one it received, so a lost
// "left" costs nothing.

export const HEARTBEAT_MS = 30_000;

/**
 * Start reporting this page's presence to the room's presence endpoint.
 * Returns a function that stops the reports (and sends "left").
 */
export function startPagePresence({ url, clientId, csrfToken, intervalMs = HEARTBEAT_MS }) {
  let timer = null;
  let stopped = false;

  function report(kind) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      // keepalive lets the "left" of a closing page still reach the server.
      keepalive: kind === "left",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify({ source: "page", kind, client_id: clientId }),
    })
      .then((response) => {
        // 403 room_closed: the session's window is over; 404: no longer allowed in. Stop.
        if (response.status === 403 || response.status === 404) stop(false);
      })
      .catch(() => {}); // offline: the next heartbeat tries again
  }

  function beat() {
    if (!stopped) report("heartbeat");
  }

  function start() {
    stopped = false;
    report("joined");
    clearInterval(timer);
    timer = setInterval(beat, intervalMs);
  }

  function stop(sendLeft = true) {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    timer = null;
    if (sendLeft) report("left");
  }

  // Phones freeze timers in the background: beat as soon as the page is visible again.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") beat();
  });
  window.addEventListener("pagehide", () => stop(true));
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) start(); // back from the back-forward cache
  });

  start();
  return () => stop(true);
}
