/* Offer countdown: keeps "还剩 25 分钟答复" true while the page stays open. Progressive
 * enhancement of the server's text (apps/core/templatetags/civic.py, reply_countdown): every
 * <time data-seconds> is rewritten every 30 s from the seconds that were left when the page was
 * made, counted on this page's own monotonic clock (the phone's wall clock may be wrong), with
 * the sentences the server put in data-text-* in the reader's language. */
(function () {
  "use strict";
  var started = performance.now();

  function fill(template, hours, minutes) {
    return String(template || "").replace("{h}", hours).replace("{m}", minutes);
  }

  function text(el, secondsLeft) {
    if (secondsLeft <= 0) return el.getAttribute("data-text-over");
    var minutes = Math.ceil(secondsLeft / 60);
    if (minutes < 60) return fill(el.getAttribute("data-text-minutes"), "", minutes);
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    if (!rest) return fill(el.getAttribute("data-text-whole-hours"), hours, "");
    return fill(el.getAttribute("data-text-hours"), hours, rest);
  }

  function tick() {
    var elapsed = (performance.now() - started) / 1000;
    var clocks = document.querySelectorAll("time[data-seconds]");
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      var left = Number(el.getAttribute("data-seconds")) - elapsed;
      var next = text(el, left);
      if (next && el.textContent !== next) el.textContent = next;
    }
  }

  setInterval(tick, 30000);
})();
