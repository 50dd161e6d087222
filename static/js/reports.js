// The progress bar of a report being generated: polls the report's small status
// JSON and updates the <progress> element and the status text (a polite live
// region, so screen readers hear the changes). Without JavaScript the page has a
// "Refresh" link instead.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-status-url]");
  if (!box) { return; }
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("report-progress");
  var text = document.getElementById("report-status-text");
  var refresh = box.querySelector(".refresh");
  var downloads = document.getElementById("downloads");
  var delay = 1000;
  var started = Date.now();
  if (refresh) { refresh.hidden = true; }

  function show(data) {
    if (bar && typeof data.progress === "number") {
      bar.value = data.progress;
      bar.textContent = data.progress + " %";
    }
    if (text && data.text && text.textContent !== data.text) { text.textContent = data.text; }
    if (data.status === "done" || data.status === "failed") {
      // Finished: nothing is being made any more, so nothing says so.
      box.setAttribute("data-status", data.status);
      if (refresh) { refresh.remove(); refresh = null; }
    }
    if (data.status === "done" && downloads) { downloads.hidden = false; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.status === "queued" || data.status === "running") { schedule(); }
      })
      .catch(function () {
        // The network or the server failed: let the user refresh by hand.
        if (refresh) { refresh.hidden = false; }
        schedule(5000);
      });
  }

  function schedule(wait) {
    if (Date.now() - started > 30 * 60 * 1000) {
      if (refresh) { refresh.hidden = false; }
      return;
    }
    delay = Math.min(delay * 1.2, 5000);
    window.setTimeout(poll, wait || delay);
  }

  schedule(700);
});
