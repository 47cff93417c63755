// The verify page's live update (served at /static/verify.js under script-src 'self').
// Follows the request's event stream; on each change it fetches this page again and swaps in
// the status line and the assets that changed (an asset being typed into stays as it is), drops
// the "updates by itself" note once nothing is open, and once the request is completed it goes
// on to the Continue link. Without this script the page works the same, reloaded by hand (or by
// its <noscript> refresh).
(function () {
  "use strict";
  var root = document.getElementById("verify");
  if (!root) return;

  function proceed() {
    var link = document.getElementById("continue");
    if (link && link.getAttribute("data-auto") === "1") {
      window.location.replace(link.href);
      return true;
    }
    return false;
  }

  if (proceed() || !window.EventSource || !window.fetch || !window.DOMParser) return;

  var busy = false;
  var again = false;

  function swap(fresh) {
    var status = document.getElementById("status");
    var newStatus = fresh.getElementById("status");
    if (status && newStatus) status.replaceWith(document.importNode(newStatus, true));
    var cont = fresh.getElementById("continue");
    if (cont && !document.getElementById("continue")) {
      var holder = document.importNode(cont.parentNode, true);
      document.getElementById("status").after(holder);
    }
    // Once nothing is left open, the note that the page follows along is no longer true.
    var note = document.getElementById("live-note");
    if (note && !fresh.getElementById("live-note")) note.remove();
    var items = fresh.querySelectorAll("#assets > li");
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var old = document.getElementById(item.id);
      if (!old) continue;
      if (old.getAttribute("data-key") === item.getAttribute("data-key")) continue;
      old.replaceWith(document.importNode(item, true));
    }
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    window
      .fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        swap(new DOMParser().parseFromString(html, "text/html"));
        proceed();
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  var source = new EventSource(root.getAttribute("data-events"));
  function onEvent(event) {
    var data = {};
    try {
      data = JSON.parse(event.data);
    } catch (e) {}
    if (data.status !== "pending" && data.status !== "partial") source.close();
    refresh();
  }
  source.addEventListener("connected", onEvent);
  source.addEventListener("changed", onEvent);
})();
