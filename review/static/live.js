// Live count of unreviewed crisis / emergency conversations, on every staff page.
// Polls /live.json (counts only, no patient data). When a crisis or emergency conversation arrives
// after this page was loaded, the tab title starts with "(n) New emergency" and an alert line links
// to Open items. A static file (the CSP allows no inline script).
(function () {
  "use strict";
  var badge = document.getElementById("live-count");
  var banner = document.getElementById("live-alert");
  if (!badge || !window.fetch) { return; }
  var since = parseInt(badge.getAttribute("data-since"), 10) || 0;
  var pollMs = Math.max(1, parseFloat(badge.getAttribute("data-poll")) || 15) * 1000;
  var baseTitle = document.title;

  function show(counts) {
    badge.setAttribute("data-polled", "yes");
    badge.textContent = counts.urgent > 0 ? "(" + counts.urgent + " crisis/emergency)" : "";
    badge.className = counts.urgent > 0 ? "live-count live-urgent" : "live-count";
    if (counts.new_urgent > 0) {
      var word = counts.new_urgent === 1 ? "New emergency" : "New emergencies";
      document.title = "(" + counts.new_urgent + ") " + word + " \u2014 " + baseTitle;
      if (banner) {
        banner.textContent = "";
        banner.appendChild(document.createTextNode(
          counts.new_urgent + " new crisis or emergency conversation" + (counts.new_urgent === 1 ? "" : "s") +
          " since this page was opened. "));
        var link = document.createElement("a");
        link.href = "/open";
        link.textContent = "Open items";
        banner.appendChild(link);
        banner.hidden = false;
      }
    }
  }

  function poll() {
    fetch("/live.json?since=" + since, { credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (resp.status === 401) { document.title = "Logged out \u2014 " + baseTitle; return null; }
        return resp.ok ? resp.json() : "retry";
      })
      .then(function (counts) {
        if (counts === null) { return; }  // logged out: stop
        if (counts !== "retry") { show(counts); }
        window.setTimeout(poll, pollMs);
      })
      .catch(function () { window.setTimeout(poll, pollMs); });
  }
  poll();
}());
