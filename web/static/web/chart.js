// The chart island: ECharts (vendored) fed by an option object from a json_script element
// (<div class="chart" data-chart="id-of-json-script">). Options are plain data: bars, lines,
// sankey, graph; no functions (the CSP forbids eval, and JSON cannot carry them).
(function () {
  "use strict";

  function initChart(element) {
    if (element.dataset.ready) return;
    element.dataset.ready = "1";
    const option = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    const chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option);
    element._chart = chart;
    new ResizeObserver(() => chart.resize()).observe(element);
    element.dataset.loaded = "1";
  }

  function init(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(initChart);
  }

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:load", (event) => init(event.detail.elt));
})();
