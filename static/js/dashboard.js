// The KPI page's charts: each [data-chart] element is drawn (as SVG) from the JSON option the
// server put in the <script type="application/json"> of the same section. Without JavaScript the
// tables under the charts show the same numbers.
(function () {
  "use strict";
  function draw() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = el.parentElement.querySelector('script[type="application/json"]');
      if (!source) return;
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(source.textContent));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
