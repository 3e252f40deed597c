/* Dashboard chart: orders per day (bars) and revenue (line), from the JSON the page carries. */
(function () {
  var holder = document.getElementById("daily-data");
  var canvas = document.getElementById("daily-chart");
  if (!holder || !canvas || !window.Chart) { return; }
  var data = JSON.parse(holder.textContent);
  var labels = JSON.parse(canvas.dataset.labels);
  window.kefuChart = new Chart(canvas, {
    data: {
      labels: data.labels.map(function (d) { return d.slice(5); }),
      datasets: [
        { type: "bar", label: labels.orders, data: data.orders, backgroundColor: "rgba(255, 80, 0, 0.55)", borderRadius: 2, yAxisID: "y" },
        { type: "line", label: labels.revenue, data: data.revenue.map(Number), borderColor: "#0052d9", backgroundColor: "#0052d9",
          pointRadius: 0, borderWidth: 1.5, tension: 0.25, yAxisID: "y1" }
      ]
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "top", align: "end", labels: { boxWidth: 10, font: { size: 12 } } } },
      scales: {
        x: { grid: { display: false }, ticks: { maxTicksLimit: 12, font: { size: 11 } } },
        y: { beginAtZero: true, position: "left", ticks: { precision: 0, font: { size: 11 } }, title: { display: true, text: labels.orders } },
        y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks: { font: { size: 11 } }, title: { display: true, text: labels.revenue } }
      }
    }
  });
})();
