// Turning Web Push on and off for this device, and keeping the server's copy up to date.

const API = "/api/v1/me/push-subscriptions";
const SYNCED = "manabi-push-endpoint";

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

async function send(method, body) {
  const response = await fetch(API, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  if (!response.ok && response.status !== 404) throw new Error(`push subscription ${response.status}`);
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

export async function resyncSubscription(registrationPromise) {
  if (!supported() || Notification.permission !== "granted") return;
  const registration = await registrationPromise;
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (!subscription || localStorage.getItem(SYNCED) === subscription.endpoint) return;
  try {
    await send("POST", subscription.toJSON());
    localStorage.setItem(SYNCED, subscription.endpoint);
  } catch {
    // signed out, or offline: the next page tries again
  }
}

export async function setUpPush(panel, registrationPromise) {
  const status = panel.querySelector(".push-status");
  const enableBox = panel.querySelector("[data-push-enable]");
  const disableBox = panel.querySelector("[data-push-disable]");
  const enable = enableBox.querySelector("button");
  const disable = disableBox.querySelector("button");
  const text = panel.dataset;
  // on: true (offer turning off), false (offer turning on), null (offer nothing)
  const show = (message, on) => {
    status.textContent = message;
    enableBox.hidden = on !== false;
    disableBox.hidden = on !== true;
  };
  if (!supported()) {
    show(text.textUnsupported, null);
    return;
  }
  const registration = await registrationPromise;
  if (!registration) {
    show(text.textUnsupported, null);
    return;
  }
  const current = await registration.pushManager.getSubscription();
  if (Notification.permission === "denied") show(text.textDenied, null);
  else show(current ? text.textOn : text.textOff, Boolean(current));

  enable.addEventListener("click", async () => {
    enable.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        show(text.textDenied, null);
        return;
      }
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(text.pushKey),
      });
      await send("POST", subscription.toJSON());
      localStorage.setItem(SYNCED, subscription.endpoint);
      show(text.textOn, true);
    } catch {
      show(text.textFailed, false);
    } finally {
      enable.disabled = false;
    }
  });

  disable.addEventListener("click", async () => {
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      try {
        await send("DELETE", { endpoint: subscription.endpoint });
      } catch {
        // the server forgets it anyway once the push service says it is gone
      }
      await subscription.unsubscribe();
    }
    localStorage.removeItem(SYNCED);
    show(text.textOff, false);
  });
}
