// Makes Manabi an installable home-screen app: registers the service worker on every page,
// and on the notification settings page loads the code that turns Web Push on and off.

const WORKER_URL = "/service-worker.js";

async function register() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    return await navigator.serviceWorker.register(WORKER_URL, { scope: "/" });
  } catch {
    return null; // private windows and old browsers: the site works without it
  }
}

const registration = register();
const panel = document.querySelector("[data-push]");
if (panel) {
  import("./push.js").then(({ setUpPush }) => setUpPush(panel, registration));
} else if ("Notification" in window && Notification.permission === "granted") {
  // A device that already gets notifications keeps its subscription known to the server.
  import("./push.js").then(({ resyncSubscription }) => resyncSubscription(registration));
}
