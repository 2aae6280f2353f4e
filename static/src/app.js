// Behaviour shared by every page: copy buttons, and the menu closing after a choice.

function setUpCopyButtons(root) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.querySelector(button.dataset.copy);
      const status = button.parentElement.querySelector(".copy-status");
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
      } catch {
        document.execCommand("copy"); // older phone browsers without the clipboard API
      }
      if (status) status.textContent = status.dataset.copied;
    });
  }
}

// On phones the navigation folds behind a Menu button; wide screens always show it.
function setUpMenu(root) {
  const button = root.querySelector(".menu-button");
  const nav = button && root.getElementById(button.getAttribute("aria-controls"));
  if (!nav) return;
  const setOpen = (open) => {
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  };
  button.hidden = false;
  root.documentElement.classList.add("has-menu");
  button.addEventListener("click", () => setOpen(button.getAttribute("aria-expanded") !== "true"));
  nav.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      setOpen(false);
      button.focus();
    }
  });
}

setUpCopyButtons(document);
setUpMenu(document);
