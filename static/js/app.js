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
  // Each such region gets a name of its own (axe: landmark-unique): "Scrollable
  // table: <caption>", or the heading of its section when the table has no caption;
  // with the section's heading too, or a number, when that name is taken.
  var headingOf = function (box) {
    var section = box.closest("section");
    if (!section) { return ""; }
    var id = section.getAttribute("aria-labelledby");
    var heading = (id && document.getElementById(id)) || section.querySelector("h2, h3");
    return heading ? heading.textContent.trim() : "";
  };
  var nameTables = function () {
    var label = document.body.getAttribute("data-scroll-label") || "";
    var used = {};
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.hasAttribute("data-static")) { return; }
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && (!box.hasAttribute("tabindex") || box.hasAttribute("data-made-focusable"))) {
        var caption = box.querySelector("caption");
        var heading = headingOf(box);
        var what = (caption && caption.textContent.trim()) || heading;
        var name = what ? label + ": " + what : label;
        if (used[name] && heading && heading !== what) { name = name + " – " + heading; }
        for (var n = 2; used[name]; n++) { name = name.replace(/ \(\d+\)$/, "") + " (" + n + ")"; }
        used[name] = true;
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name);
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
