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

function closeMenuOnEscape(root) {
  const menu = root.querySelector("details.menu");
  if (!menu) return;
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
}

setUpCopyButtons(document);
closeMenuOnEscape(document);
