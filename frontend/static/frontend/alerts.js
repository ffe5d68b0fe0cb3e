// Alerts on a dashboard's visuals. A click on a number in a visual's table opens the panel that sets an alert on that
// cell; a visual's bell makes its cells reachable with the keyboard; the dashboard's bell opens the alerts pane. The
// panels are fragments of the server (frontend/alert_views.py) shown in one drawer: this file opens and closes the
// drawer and moves focus, and draws an alert's history chart.
(() => {
  "use strict";

  const NUMERIC_ONLY = "Only numeric cells can have alerts; this cell has no number.";
  const GONE = "This alert or visual does not exist (any more), or you may not see it.";
  const BROKEN = "Something went wrong on the server; try again in a moment.";
  // answers the server gives with a fragment to show: refused input (400), no permission (403), no data yet (409),
  // reading the data timed out (504)
  const SHOWN_ERRORS = new Set([400, 403, 409, 504]);
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let opener = null; // where focus returns when the drawer closes

  const drawer = () => document.querySelector("[data-alert-drawer]");

  function valueOf(cell) {
    try {
      return JSON.parse(cell.getAttribute("data-value"));
    } catch {
      return undefined;
    }
  }

  function focusIn(fragment) {
    const target =
      fragment.querySelector("[data-form-errors], [data-alert-error], [data-alert-forbidden]") ||
      fragment.querySelector("[data-alert-heading]");
    if (target) {
      if (!target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }

  function show() {
    drawer().hidden = false;
  }

  function close() {
    const panel = drawer();
    if (!panel || panel.hidden) {
      return;
    }
    panel.hidden = true;
    panel.replaceChildren();
    for (const cell of document.querySelectorAll(".is-alert-selected")) {
      cell.classList.remove("is-alert-selected");
    }
    if (opener && document.contains(opener)) {
      opener.focus();
    }
    opener = null;
  }

  // A message in the drawer, in the shape of the server's fragments.
  function message(heading, text) {
    const panel = drawer();
    const fragment = document.createElement("div");
    fragment.className = "alert-fragment";
    fragment.setAttribute("data-alert-fragment", "");
    const head = document.createElement("div");
    head.className = "alert-fragment__head";
    const title = document.createElement("h2");
    title.textContent = heading;
    title.tabIndex = -1;
    title.setAttribute("data-alert-heading", "");
    const closer = document.createElement("button");
    closer.type = "button";
    closer.className = "alert-fragment__close";
    closer.setAttribute("data-alert-close", "");
    closer.setAttribute("aria-label", "Close the alerts panel");
    closer.textContent = "\u00d7";
    head.append(title, closer);
    const box = document.createElement("div");
    box.className = "alert alert--error";
    box.setAttribute("role", "alert");
    box.setAttribute("data-alert-error", "");
    const paragraph = document.createElement("p");
    paragraph.textContent = text;
    box.append(paragraph);
    fragment.append(head, box);
    panel.replaceChildren(fragment);
    show();
    focusIn(fragment);
  }

  function openCell(cell) {
    const panel = drawer();
    const visual = cell.closest("[data-alert-url]");
    if (!panel || !visual) {
      return;
    }
    opener = cell;
    for (const other of document.querySelectorAll(".is-alert-selected")) {
      other.classList.remove("is-alert-selected");
    }
    cell.classList.add("is-alert-selected");
    const value = valueOf(cell);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      message("New alert", NUMERIC_ONLY);
      return;
    }
    const params = new URLSearchParams({ key: cell.getAttribute("data-key") });
    if (panel.dataset.asset) {
      params.set("asset", panel.dataset.asset);
    }
    htmx.ajax("GET", `${visual.dataset.alertUrl}?${params}`, { target: panel, swap: "innerHTML" });
  }

  // The bell of a visual: its cells become focusable (Tab, then Enter opens the panel) and a hint says so.
  function toggleAlertMode(bell) {
    const visual = bell.closest("[data-visual]");
    const on = bell.getAttribute("aria-pressed") !== "true";
    bell.setAttribute("aria-pressed", String(on));
    visual.classList.toggle("is-alert-mode", on);
    const hint = visual.querySelector("[data-alert-hint]");
    if (hint) {
      hint.hidden = !on;
    }
    for (const cell of visual.querySelectorAll("td[data-key]")) {
      if (on) {
        cell.tabIndex = 0;
      } else {
        cell.removeAttribute("tabindex");
      }
    }
  }

  // An alert's values over time with its threshold; breached evaluations are drawn in red.
  function drawCharts(root) {
    if (typeof Chart === "undefined" || !root.querySelectorAll) {
      return;
    }
    for (const canvas of root.querySelectorAll("canvas[data-alert-chart]")) {
      const source = document.getElementById(canvas.dataset.alertChart);
      if (!source || canvas.dataset.drawn) {
        continue;
      }
      canvas.dataset.drawn = "true";
      const data = JSON.parse(source.textContent);
      new Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            {
              label: data.measure,
              data: data.values,
              borderColor: "#1f4f99",
              backgroundColor: "#1f4f99",
              pointBackgroundColor: data.breached.map((breached) => (breached ? "#9b1c1c" : "#1f4f99")),
              pointRadius: 3,
              tension: 0,
            },
            {
              label: "Threshold",
              data: data.labels.map(() => data.threshold),
              borderColor: "#b58a00",
              borderDash: [6, 4],
              pointRadius: data.labels.length === 1 ? 3 : 0, // one evaluation: a line of one point is invisible
            },
          ],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: reduceMotion ? false : { duration: 300 },
          plugins: { legend: { position: "bottom" } },
          scales: { x: { ticks: { maxTicksLimit: 6 } } },
        },
      });
    }
  }

  document.addEventListener("click", (event) => {
    const bell = event.target.closest("[data-alert-bell]");
    if (bell) {
      toggleAlertMode(bell);
      return;
    }
    if (event.target.closest("[data-alert-close]")) {
      close();
      return;
    }
    const openerLink = event.target.closest("[data-alert-opener]");
    if (openerLink) {
      opener = openerLink;
      return;
    }
    const cell = event.target.closest("td[data-key]");
    if (cell && cell.closest("table[data-sortable-visual]")) {
      openCell(cell);
    }
  });

  document.addEventListener("keydown", (event) => {
    const panel = drawer();
    if (event.key === "Escape" && panel && !panel.hidden) {
      close();
      return;
    }
    if ((event.key === "Enter" || event.key === " ") && event.target.matches?.("td[data-key][tabindex]")) {
      event.preventDefault();
      openCell(event.target);
    }
  });

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!target || !target.closest || !target.closest("[data-alert-drawer], [data-alert-fragment]")) {
      return;
    }
    const status = event.detail.xhr.status;
    if (SHOWN_ERRORS.has(status)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    } else if (status === 404) {
      event.detail.shouldSwap = false;
      message("Alerts", GONE);
    } else if (status >= 500) {
      event.detail.shouldSwap = false;
      message("Alerts", BROKEN);
    }
  });

  // Every fragment the drawer receives opens it and takes focus (its first error, else its heading).
  document.addEventListener("htmx:load", (event) => {
    const root = event.target;
    const panel = drawer();
    if (panel && root.matches?.("[data-alert-fragment]") && panel.contains(root)) {
      show();
      focusIn(root);
    }
    drawCharts(root);
  });
  document.addEventListener("DOMContentLoaded", () => drawCharts(document));
})();
