// On an earlier board's page: copy one of its pages into today's open board (tutors).
const form = document.querySelector("form.board-copy");

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector("[data-copy-status]");
    const page = Math.max(1, Number(form.elements.page.value) || 1) - 1; // people count from 1
    const response = await fetch(form.dataset.copyUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content,
      },
      body: JSON.stringify({ from_session_id: Number(form.dataset.fromSession), page, to_page: page }),
    }).catch(() => null);
    status.textContent = response?.ok ? status.dataset.done : status.dataset.failed;
  });
}
