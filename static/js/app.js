// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to an error summary so screen-reader users hear what went wrong.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // The main menu collapses behind a "Menu" button on a narrow screen (the CSS shows
  // the button below 40rem only). Escape closes it and gives focus back to the button.
  var nav = document.querySelector("nav.main-nav");
  var toggle = nav && nav.querySelector(".menu-toggle");
  if (toggle) {
    var setOpen = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("closed", !open);
    };
    toggle.hidden = false;
    setOpen(false);
    toggle.addEventListener("click", function () { setOpen(toggle.getAttribute("aria-expanded") !== "true"); });
    nav.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && toggle.getAttribute("aria-expanded") === "true" && getComputedStyle(toggle).display !== "none") {
        setOpen(false);
        toggle.focus();
      }
    });
  }
  // A table wider than the screen scrolls inside its own container: make that container
  // reachable and scrollable by keyboard, and name it after the table's caption.
  var nameTables = function () {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.hasAttribute("data-static")) { return; }
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", (caption && caption.textContent.trim()) || document.body.getAttribute("data-scroll-label") || "");
        box.setAttribute("data-made-focusable", "");
      } else if (!scrolls && box.hasAttribute("data-made-focusable")) {
        ["tabindex", "role", "aria-label", "data-made-focusable"].forEach(function (a) { box.removeAttribute(a); });
      }
    });
  };
  nameTables();
  window.addEventListener("resize", nameTables);
  // Buttons that ask before doing something that cannot be undone.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
});
