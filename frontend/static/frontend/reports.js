// Draws each report chart of the reports page with Chart.js, from the data the page embeds with json_script.
(function () {
  if (typeof Chart === "undefined") {
    return;
  }
  const palette = ["#2457a6", "#2f8f83", "#c0692b", "#7a4fb3", "#b83f5d", "#5f7d1f", "#3a7bbf", "#8a6d1d"];
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#2b3340";

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) {
      return;
    }
    const data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: data.label,
            data: data.counts,
            backgroundColor: data.labels.map((_, i) => palette[i % palette.length]),
            borderRadius: 3,
            maxBarThickness: 28,
          },
        ],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 400 },
        plugins: { legend: { display: false }, title: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  });
})();
