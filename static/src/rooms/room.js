// The room page: Jitsi video, the switch between video and whiteboard on phones, time left,
// and presence reports for attendance.
import { loadExternalApi, meetingOptions } from "./jitsi.js";
import { startPagePresence } from "../attendance/heartbeat.js";

const room = document.querySelector("[data-room]");
const clientId = (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

/** Tell the server what the room saw; attendance is computed from these reports. */
function reportPresence(source, kind) {
  return fetch(room.dataset.presenceUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ source, kind, client_id: clientId }),
  }).catch(() => {}); // attendance closes intervals from heartbeats when a report is lost
}

function showFallback() {
  room.querySelector("[data-video-fallback]").hidden = false;
  room.querySelector("[data-jitsi-container]").hidden = true;
}

async function startVideo() {
  const container = room.querySelector("[data-jitsi-container]");
  try {
    const JitsiMeetExternalAPI = await loadExternalApi(room.dataset.domain, Number(room.dataset.loadTimeout));
    const api = new JitsiMeetExternalAPI(room.dataset.domain, meetingOptions(room, container));
    api.addListener("videoConferenceJoined", () => reportPresence("video", "joined"));
    api.addListener("videoConferenceLeft", () => reportPresence("video", "left"));
    window.manabiJitsi = api;
  } catch {
    showFallback();
  }
}

/** On a phone, one tap switches between video and whiteboard; the video stays as a small tile. */
function setUpViewSwitch() {
  const buttons = room.querySelectorAll("[data-show]");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      room.dataset.view = button.dataset.show;
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
    });
  }
}

function startCountdown() {
  const label = room.querySelector("[data-time-left]");
  const endsAt = new Date(room.dataset.endsAt);
  const update = () => {
    const minutes = Math.ceil((endsAt - Date.now()) / 60000);
    label.textContent = minutes > 0
      ? room.dataset.textMinutesLeft.replace("{n}", String(minutes))
      : room.dataset.textEnded;
  };
  update();
  setInterval(update, 30_000);
}

if (room) {
  startPagePresence({ url: room.dataset.presenceUrl, clientId, csrfToken: csrfToken() });
  setUpViewSwitch();
  startCountdown();
  startVideo();
}
