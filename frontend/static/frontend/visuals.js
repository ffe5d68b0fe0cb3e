// Sorting of the visual tables on an asset page (the server lays them out: frontend/visual_tables.py), and the
// highlight of the cell an alert's email links to.
//
// A click on a column header's button sorts the body rows by that column: text ascending first, numbers descending
// first, then the other way on the next click. Blank and missing values stay last either way, totals stay at the
// bottom (they are in the table foot), and rows with equal values keep their order. In a pivot table the row
// dimension headers span the rows that share them: they are repeated in every row before the sort and merged again
// after it, so the spans always match the order on screen.
(() => {
  "use strict";

  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  // The raw value of a cell (JSON in data-value), or undefined when the cell has none.
  function valueOf(cell) {
    if (!cell || !cell.hasAttribute("data-value")) {
      return undefined;
    }
    try {
      return JSON.parse(cell.getAttribute("data-value"));
    } catch {
      return cell.textContent;
    }
  }

  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") {
      return a - b;
    }
    if (typeof a === "boolean" && typeof b === "boolean") {
      return Number(a) - Number(b);
    }
    return collator.compare(String(a), String(b));
  }

  // The row dimension header at `level`, if this row has its own.
  function headerAt(row, level) {
    const cell = row.cells[level];
    return cell && cell.tagName === "TH" && cell.dataset.level === String(level) ? cell : null;
  }

  // Repeats every spanning row header in each row it spans, so each row has `lead` header cells.
  function expand(body, lead) {
    const spanning = [];
    for (const row of body.rows) {
      for (let level = 0; level < lead; level += 1) {
        const own = headerAt(row, level);
        if (own) {
          spanning[level] = { cell: own, left: own.rowSpan - 1 };
          own.rowSpan = 1;
        } else if (spanning[level] && spanning[level].left > 0) {
          row.insertBefore(spanning[level].cell.cloneNode(true), row.cells[level] || null);
          spanning[level].left -= 1;
        }
      }
    }
  }

  // Merges the row headers of neighbouring rows that share a value (and every value to its left) into one span.
  function merge(body, lead) {
    const rows = Array.from(body.rows);
    const headers = rows.map((row) => Array.from({ length: lead }, (_, level) => headerAt(row, level)));
    const same = (a, b, level) => {
      for (let l = 0; l <= level; l += 1) {
        if (!headers[a][l] || !headers[b][l] || headers[a][l].dataset.value !== headers[b][l].dataset.value) {
          return false;
        }
      }
      return true;
    };
    const covered = [];
    for (let level = 0; level < lead; level += 1) {
      let start = 0;
      for (let i = 1; i <= rows.length; i += 1) {
        if (i === rows.length || !same(start, i, level)) {
          if (headers[start][level]) {
            headers[start][level].rowSpan = i - start;
          }
          for (let j = start + 1; j < i; j += 1) {
            covered.push(headers[j][level]);
          }
          start = i;
        }
      }
    }
    for (const cell of covered) {
      cell.remove();
    }
  }

  function sortBy(table, header) {
    const index = Number(header.dataset.sortIndex);
    const numeric = header.hasAttribute("data-sort-numeric");
    const current = header.getAttribute("aria-sort");
    let direction = numeric ? "descending" : "ascending";
    if (current === "ascending") {
      direction = "descending";
    } else if (current === "descending") {
      direction = "ascending";
    }
    for (const other of table.querySelectorAll("thead th[aria-sort]")) {
      other.removeAttribute("aria-sort");
    }
    header.setAttribute("aria-sort", direction);

    const body = table.tBodies[0];
    const lead = Number(table.dataset.lead) || 0;
    const pivot = table.classList.contains("visual__table--pivot");
    if (pivot) {
      expand(body, lead);
    }
    const sign = direction === "ascending" ? 1 : -1;
    const rows = Array.from(body.rows, (row, position) => ({ row, position, value: valueOf(row.cells[index]) }));
    rows.sort((a, b) => {
      const aBlank = a.value === undefined || a.value === null;
      const bBlank = b.value === undefined || b.value === null;
      if (aBlank || bBlank) {
        return aBlank === bBlank ? a.position - b.position : aBlank ? 1 : -1;
      }
      return sign * compare(a.value, b.value) || a.position - b.position;
    });
    const ordered = document.createDocumentFragment();
    for (const { row } of rows) {
      ordered.appendChild(row);
    }
    body.appendChild(ordered);
    if (pivot) {
      merge(body, lead);
    }
  }

  function enhance(root) {
    const tables = root.matches?.("table[data-sortable-visual]")
      ? [root]
      : root.querySelectorAll("table[data-sortable-visual]");
    for (const table of tables) {
      if (table.dataset.sortReady) {
        continue;
      }
      table.dataset.sortReady = "true";
      table.tHead.addEventListener("click", (event) => {
        const button = event.target.closest("button.visual__sort");
        if (button && table.tHead.contains(button)) {
          sortBy(table, button.closest("th"));
        }
      });
    }
  }

  // An alert's email links to the dashboard with ?highlight=<cell key>: once the visual holding that cell has loaded,
  // the cell is outlined, scrolled into view and focused (keys are compared as text, so any characters are safe).
  const wanted = new URLSearchParams(window.location.search).get("highlight");
  let highlighted = false;

  function highlight(root) {
    if (!wanted || highlighted || !root.querySelectorAll) {
      return;
    }
    for (const cell of root.querySelectorAll("[data-key]")) {
      if (cell.getAttribute("data-key") === wanted) {
        highlighted = true;
        cell.classList.add("is-highlighted");
        cell.setAttribute("aria-current", "true");
        cell.tabIndex = -1;
        cell.scrollIntoView({ block: "center", inline: "center" });
        cell.focus({ preventScroll: true });
        return;
      }
    }
  }

  // Visuals arrive as HTMX fragments after the page has loaded; htmx:load is sent for each new piece of content.
  document.addEventListener("htmx:load", (event) => {
    enhance(event.target);
    highlight(event.target);
  });
  document.addEventListener("DOMContentLoaded", () => {
    enhance(document);
    highlight(document);
  });
  window.cartographVisuals = { sortBy, enhance, highlight };
})();
