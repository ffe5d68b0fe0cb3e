// The lineage explorer. It draws an asset's lineage with Cytoscape.js, laid out in layers by cytoscape-dagre (upstream
// on the left), one hop each way at first; selecting an asset loads what lies beyond it from the lineage API and merges
// it in. Siblings of one kind beyond a threshold are drawn as one group node that lists them, so a hub with hundreds of
// dashboards stays readable. Restricted assets are grey placeholders that cannot be expanded. Everything drawn is also
// listed in the tables under the graph, with buttons for everything the graph does on a click.
(function () {
  "use strict";

  const root = document.querySelector("[data-lineage-explorer]");
  const configScript = document.getElementById("lineage-config");
  if (!root || !configScript || typeof window.cytoscape === "undefined") {
    return;
  }
  const config = JSON.parse(configScript.textContent);
  const container = root.querySelector("#lineage-graph");
  const statusLine = root.querySelector("[data-lineage-status]");
  const truncatedNotice = root.querySelector("[data-lineage-truncated]");
  const cyclesNotice = root.querySelector("[data-lineage-cycles]");
  const errorBox = root.querySelector("[data-lineage-error]");
  const panel = root.querySelector("[data-lineage-panel]");
  const nodesBody = root.querySelector("[data-lineage-nodes] tbody");
  const edgesBody = root.querySelector("[data-lineage-edges] tbody");
  const summary = root.querySelector("[data-lineage-summary]");
  const asOfInput = root.querySelector("#lineage-as-of");
  const pathFrom = root.querySelector("#lineage-path-from");
  const pathTo = root.querySelector("#lineage-path-to");

  const RESTRICTED_PREFIX = "restricted-";
  const KIND_COLOURS = {
    data_product: "#dcefe0",
    data_source: "#dbe7f7",
    dataset: "#d7efec",
    template: "#ebe2f6",
    analysis: "#f8e7d9",
    dashboard: "#fbe3ea",
    visual: "#eef2d9",
    folder: "#eceff3",
  };
  const EDGE_COLOURS = {
    reads_from: "#2457a6",
    uses_dataset: "#2f8f83",
    template_of: "#7a4fb3",
    created_from: "#c0692b",
    forked_from: "#b83f5d",
    contains: "#5f7d1f",
    derived_from: "#3a3f47",
  };
  const EDGE_LABELS = Object.fromEntries(config.edgeKinds.map((kind) => [kind.value, kind.label]));

  const state = {
    nodes: new Map(), // id → {id, restricted, name, kind, details, via, direction, totalIn, totalOut}
    edges: new Map(), // lineage edge id → {id, source, target, kind}
    pinned: new Set([config.root]), // drawn on their own even when their siblings are grouped
    groups: new Map(), // group node id → {id, via, direction, kind, members}
    grouped: new Map(), // node id → the group node that stands for it
    links: new Map(), // drawn edge id → {id, source, target, kind, edgeIds}
    kinds: null, // null: every edge kind
    asOf: "",
    truncated: false,
    cycles: false,
    selected: null,
    path: null, // {nodes: Set, edges: Set}
    fetches: 0,
    pending: 0,
    generation: 0,
    loaded: false,
  };

  // ---------------------------------------------------------------------------------------------------------------
  // Small helpers

  function isRestrictedId(id) {
    return id.startsWith(RESTRICTED_PREFIX);
  }

  function kindLabel(kind) {
    return kind ? (config.assetKinds[kind] || {}).label || kind : "Restricted";
  }

  function kindPlural(kind) {
    return kind ? (config.assetKinds[kind] || {}).plural || `${kind}s` : "restricted assets";
  }

  function shorten(text, length) {
    return text.length > length ? `${text.slice(0, length - 1)}…` : text;
  }

  function urlFor(pattern, id) {
    return pattern.replace("{id}", encodeURIComponent(id));
  }

  function plural(count, word) {
    return `${count} ${word}${count === 1 ? "" : "s"}`;
  }

  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) {
        continue;
      }
      if (name === "class") {
        node.className = value;
      } else if (name === "onclick") {
        node.addEventListener("click", value);
      } else if (name === "text") {
        node.textContent = value;
      } else {
        node.setAttribute(name, value === true ? "" : value);
      }
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  function button(label, onclick, attributes) {
    return element("button", { type: "button", class: "button button--secondary button--small", onclick, ...attributes }, label);
  }

  function announce(message) {
    statusLine.textContent = message;
  }

  function showError(message) {
    errorBox.replaceChildren(element("p", {}, message));
    errorBox.hidden = false;
  }

  function begin(message) {
    state.pending += 1;
    root.setAttribute("aria-busy", "true");
    announce(message);
  }

  function end() {
    state.pending -= 1;
    if (state.pending === 0) {
      root.setAttribute("aria-busy", "false");
    }
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (!response.ok) {
      throw new Error((body && body.detail) || `the server answered ${response.status}`);
    }
    return body;
  }

  function lineageUrl(id, direction) {
    const params = new URLSearchParams({ direction, depth: "1" });
    if (state.kinds) {
      params.set("kinds", state.kinds.join(","));
    }
    if (state.asOf) {
      params.set("as_of", state.asOf);
    }
    return `${urlFor(config.lineageUrl, id)}?${params}`;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The graph as data: merging API answers, counting what is not shown, grouping siblings

  // Merges one answer of the lineage or path API. Placeholder ids ("restricted-1") are only unique within one answer:
  // an edge seen before tells which placeholder it is; otherwise it gets an id of its own.
  function merge(data, origin) {
    const fetchNo = ++state.fetches;
    const alias = new Map();
    for (const edge of data.edges) {
      const known = state.edges.get(String(edge.id));
      if (known) {
        if (isRestrictedId(edge.source)) alias.set(edge.source, known.source);
        if (isRestrictedId(edge.target)) alias.set(edge.target, known.target);
      }
    }
    const globalId = (id) => {
      if (!isRestrictedId(id)) return id;
      if (!alias.has(id)) alias.set(id, `${id}-${fetchNo}`);
      return alias.get(id);
    };
    // the degrees of a node are what is hidden plus what this answer includes
    const included = new Map();
    const bump = (id, side) => {
      const count = included.get(id) || { in: 0, out: 0 };
      count[side] += 1;
      included.set(id, count);
    };
    for (const edge of data.edges) {
      bump(edge.source, "out");
      bump(edge.target, "in");
    }
    const added = [];
    for (const item of data.nodes) {
      const id = globalId(item.id);
      let node = state.nodes.get(id);
      if (!node) {
        node = {
          id,
          restricted: item.restricted,
          name: item.restricted ? "Restricted asset" : item.name,
          kind: item.kind || "",
          details: item.details || null,
          via: origin.via && id !== origin.via ? origin.via : null,
          direction: item.depth < 0 ? "upstream" : item.depth > 0 ? "downstream" : null,
          totalIn: null,
          totalOut: null,
        };
        state.nodes.set(id, node);
        added.push(node);
        if (!origin.via) state.pinned.add(id);
      }
      if (origin.degrees) {
        const count = included.get(item.id) || { in: 0, out: 0 };
        node.totalIn = item.hidden_upstream + count.in;
        node.totalOut = item.hidden_downstream + count.out;
      }
    }
    for (const edge of data.edges) {
      const id = String(edge.id);
      if (!state.edges.has(id)) {
        state.edges.set(id, { id, source: globalId(edge.source), target: globalId(edge.target), kind: edge.kind });
      }
    }
    if (data.truncated) state.truncated = true;
    if (data.cycles && data.cycles.length) state.cycles = true;
    return { added, globalId };
  }

  function linkCounts() {
    const into = new Map();
    const out = new Map();
    for (const edge of state.edges.values()) {
      out.set(edge.source, (out.get(edge.source) || 0) + 1);
      into.set(edge.target, (into.get(edge.target) || 0) + 1);
    }
    return { into, out };
  }

  // Neighbours of a node that the graph does not show yet; null when unknown (a placeholder, or a node from a path).
  function hiddenOf(node, counts) {
    if (node.restricted || node.totalIn === null) {
      return null;
    }
    return {
      upstream: Math.max(node.totalIn - (counts.into.get(node.id) || 0), 0),
      downstream: Math.max(node.totalOut - (counts.out.get(node.id) || 0), 0),
    };
  }

  // Siblings (nodes brought in by expanding the same node in the same direction) are grouped by kind: a kind with more
  // than the threshold always, and then the largest kinds until no more than the threshold are drawn one by one.
  function computeGroups() {
    const buckets = new Map();
    for (const node of state.nodes.values()) {
      if (state.pinned.has(node.id) || !node.via || !node.direction || !state.nodes.has(node.via)) {
        continue;
      }
      const key = `${node.via}|${node.direction}`;
      if (!buckets.has(key)) buckets.set(key, new Map());
      const byKind = buckets.get(key);
      if (!byKind.has(node.kind)) byKind.set(node.kind, []);
      byKind.get(node.kind).push(node.id);
    }
    const groups = new Map();
    const grouped = new Map();
    for (const [key, byKind] of buckets) {
      const [via, direction] = key.split("|");
      const kinds = [...byKind.entries()].sort((a, b) => b[1].length - a[1].length);
      let drawn = kinds.reduce((sum, [, ids]) => sum + ids.length, 0);
      for (const [kind, ids] of kinds) {
        const tooMany = ids.length > config.groupThreshold || (drawn > config.groupThreshold && ids.length > 1);
        if (!tooMany) continue;
        const id = `group:${via}:${direction}:${kind || "restricted"}`;
        const members = ids.slice().sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
        groups.set(id, { id, via, direction, kind, members });
        for (const member of members) grouped.set(member, id);
        drawn -= ids.length - 1;
      }
    }
    return { groups, grouped };
  }

  function nameOf(id) {
    const group = state.groups.get(id);
    if (group) return groupLabel(group);
    const node = state.nodes.get(id);
    return node ? node.name : id;
  }

  function groupLabel(group) {
    return `${group.members.length} ${kindPlural(group.kind)}`;
  }

  function drawnIdOf(id) {
    return state.grouped.get(id) || id;
  }

  function nodeLabel(node, hidden) {
    if (node.restricted) {
      return "Restricted asset";
    }
    let label = `${shorten(node.name, 28)}\n${kindLabel(node.kind)}`;
    if (hidden && (hidden.upstream || hidden.downstream)) {
      const parts = [];
      if (hidden.upstream) parts.push(`◀ ${hidden.upstream}`);
      if (hidden.downstream) parts.push(`${hidden.downstream} ▶`);
      label += `  ${parts.join("  ")}`;
    }
    return label;
  }

  function buildElements() {
    const { groups, grouped } = computeGroups();
    state.groups = groups;
    state.grouped = grouped;
    const counts = linkCounts();
    const nodes = [];
    for (const node of state.nodes.values()) {
      if (grouped.has(node.id)) continue;
      const classes = [];
      if (node.id === config.root) classes.push("root");
      if (node.restricted) classes.push("restricted");
      nodes.push({
        group: "nodes",
        data: { id: node.id, label: nodeLabel(node, hiddenOf(node, counts)), kind: node.kind || "restricted" },
        classes: classes.join(" "),
      });
    }
    for (const group of groups.values()) {
      nodes.push({
        group: "nodes",
        data: { id: group.id, label: `${groupLabel(group)}\nselect to list them`, kind: group.kind || "restricted" },
        classes: "group",
      });
    }
    const links = new Map();
    for (const edge of state.edges.values()) {
      const source = drawnIdOf(edge.source);
      const target = drawnIdOf(edge.target);
      if (source === target) continue;
      const id = `link:${source}>${target}:${edge.kind}`;
      if (!links.has(id)) links.set(id, { id, source, target, kind: edge.kind, edgeIds: [] });
      links.get(id).edgeIds.push(edge.id);
    }
    state.links = links;
    const edges = [...links.values()].map((link) => ({
      group: "edges",
      data: {
        id: link.id,
        source: link.source,
        target: link.target,
        kind: link.kind,
        label: link.edgeIds.length > 1 ? String(link.edgeIds.length) : "",
      },
    }));
    return { elements: nodes.concat(edges), counts };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Drawing

  const cy = window.cytoscape({
    container,
    elements: [],
    minZoom: 0.15,
    maxZoom: 2.5,
    boxSelectionEnabled: false,
    autounselectify: true,
    style: [
      {
        selector: "node",
        style: {
          shape: "round-rectangle",
          width: 156,
          height: 52,
          "background-color": (node) => KIND_COLOURS[node.data("kind")] || "#eceff3",
          "border-width": 1,
          "border-color": "#8a94a3",
          label: "data(label)",
          "text-wrap": "wrap",
          "text-max-width": 148,
          "text-valign": "center",
          "text-halign": "center",
          "font-size": 13,
          "font-family": getComputedStyle(document.body).fontFamily,
          color: "#1d2530",
        },
      },
      { selector: "node.root", style: { "border-width": 3, "border-color": "#163a73" } },
      {
        selector: "node.restricted",
        style: { "background-color": "#d5d9df", "border-style": "dashed", "border-color": "#6b7482", color: "#3f4650" },
      },
      {
        selector: "node.group",
        style: {
          "background-color": "#ffffff",
          "border-width": 4,
          "border-style": "double",
          "border-color": "#1f4f99",
          "font-weight": "bold",
        },
      },
      {
        selector: "edge",
        style: {
          width: 2,
          "curve-style": "bezier",
          "line-color": (edge) => EDGE_COLOURS[edge.data("kind")] || "#6b7482",
          "target-arrow-color": (edge) => EDGE_COLOURS[edge.data("kind")] || "#6b7482",
          "target-arrow-shape": "triangle",
          label: "data(label)",
          "font-size": 10,
          "text-background-color": "#ffffff",
          "text-background-opacity": 1,
        },
      },
      { selector: ".faded", style: { opacity: 0.25 } },
      { selector: "node.on-path", style: { "border-width": 4, "border-color": "#1d2530" } },
      { selector: "edge.on-path", style: { width: 5, "z-index": 10 } },
      { selector: "node.is-selected", style: { "border-width": 4, "border-color": "#f2b705" } },
    ],
  });

  // Fits the graph in view, but never so small that labels cannot be read: a wide graph is then centred on the
  // selected asset (or the starting one) and can be panned by dragging and zoomed with the mouse wheel.
  const READABLE_ZOOM = 0.8;
  function frame(elements, focus) {
    cy.fit(elements, 20);
    if (cy.zoom() > 1.1) {
      cy.zoom(1.1);
      cy.center(elements);
    } else if (cy.zoom() < READABLE_ZOOM) {
      cy.zoom(READABLE_ZOOM);
      cy.center(focus && focus.nonempty() ? focus : elements);
    }
  }

  function layout() {
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 12, rankSep: 60, edgeSep: 8, fit: false }).run();
    frame(cy.elements(), cy.getElementById(state.selected || config.root));
  }

  function applyHighlight() {
    cy.batch(() => {
      cy.elements().removeClass("on-path faded is-selected");
      if (state.path) {
        const pathNodes = new Set([...state.path.nodes].map(drawnIdOf));
        cy.nodes().forEach((node) => {
          node.addClass(pathNodes.has(node.id()) ? "on-path" : "faded");
        });
        cy.edges().forEach((edge) => {
          const link = state.links.get(edge.id());
          const onPath = link && link.edgeIds.some((id) => state.path.edges.has(id));
          edge.addClass(onPath ? "on-path" : "faded");
        });
      }
      if (state.selected) {
        cy.getElementById(state.selected).addClass("is-selected");
      }
    });
  }

  function render() {
    const { elements, counts } = buildElements();
    cy.batch(() => {
      const wanted = new Set(elements.map((item) => item.data.id));
      cy.elements()
        .filter((item) => !wanted.has(item.id()))
        .remove();
      for (const item of elements) {
        const existing = cy.getElementById(item.data.id);
        if (existing.nonempty()) {
          existing.data(item.data);
          existing.classes(item.classes || "");
        } else {
          cy.add(item);
        }
      }
    });
    if (state.selected && cy.getElementById(state.selected).empty()) {
      state.selected = state.grouped.get(state.selected) || null;
    }
    applyHighlight();
    layout();
    renderText(counts);
    renderPathOptions();
    renderPanel(counts);
    truncatedNotice.hidden = !state.truncated;
    cyclesNotice.hidden = !state.cycles;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The side panel and the text alternative

  // Re-rendering replaces the buttons; keyboard focus goes back to the button that had it, else to the same asset's
  // Select button in the table, else to the panel's title.
  function keepingFocus(scope, draw) {
    const active = document.activeElement;
    const inside = scope.contains(active) && active.dataset;
    const key = inside ? active.dataset.focusKey : null;
    const nodeId = inside ? active.dataset.focusNode : null;
    const onTitle = inside && active.id === "lineage-panel-title";
    draw();
    if (!key && !onTitle) {
      return;
    }
    const candidates = key ? [`[data-focus-key="${CSS.escape(key)}"]`] : [];
    if (nodeId) candidates.push(`[data-focus-key="${CSS.escape(`row:select:${nodeId}`)}"]`);
    for (const selector of candidates) {
      const again = root.querySelector(selector);
      if (again && !again.disabled) {
        again.focus();
        return;
      }
    }
    const title = panel.querySelector("h3");
    title.setAttribute("tabindex", "-1");
    title.focus();
  }

  function whereOf(node) {
    if (node.id === config.root) return "Starting asset";
    if (!node.via) return "On a highlighted path";
    return `${node.direction === "upstream" ? "Upstream" : "Downstream"} of ${nameOf(node.via)}`;
  }

  function expandButtons(node, hidden, focusPrefix) {
    const buttons = [];
    for (const direction of ["upstream", "downstream"]) {
      const count = hidden ? hidden[direction] : null;
      if (count === 0) continue;
      const text = count === null ? `Show ${direction}` : `Show ${count} more ${direction}`;
      buttons.push(
        button(text, () => expand(node.id, direction), {
          "aria-label": `${text} of ${node.name}`,
          "data-focus-key": `${focusPrefix}:${direction}:${node.id}`,
          "data-focus-node": node.id,
        }),
      );
    }
    return buttons;
  }

  function renderPanel(counts) {
    keepingFocus(panel, () => drawPanel(counts || linkCounts()));
  }

  function drawPanel(counts) {
    const id = state.selected;
    const title = element("h3", { id: "lineage-panel-title" });
    panel.replaceChildren(title);
    if (!id) {
      title.textContent = "Selected asset";
      panel.append(element("p", { class: "muted" }, "Select an asset in the graph or in the table below."));
      return;
    }
    const group = state.groups.get(id);
    if (group) {
      drawGroupPanel(title, group);
      return;
    }
    const node = state.nodes.get(id);
    if (!node) {
      state.selected = null;
      drawPanel(counts);
      return;
    }
    if (node.restricted) {
      title.textContent = "Restricted asset";
      panel.append(
        element(
          "p",
          {},
          "You may not see this asset, so its name and its own lineage are hidden. Its owners can give you access.",
        ),
      );
      return;
    }
    const details = node.details || {};
    title.textContent = node.name;
    const fact = (label, value) => element("div", {}, element("dt", {}, label), element("dd", {}, value || "—"));
    panel.append(
      element(
        "dl",
        { class: "facts", "data-lineage-facts": true },
        fact("Kind", kindLabel(node.kind)),
        fact("Owner", details.owner__username || details.owner_group__name),
        fact("Customer", details.customer__name),
        fact("Business unit", details.business_unit__name),
        fact("Version", details.version !== undefined ? String(details.version) : ""),
        details.status && details.status !== "active" ? fact("Status", details.status) : null,
        fact("Where", whereOf(node)),
      ),
    );
    const links = element(
      "ul",
      { class: "actions" },
      element("li", {}, element("a", { href: urlFor(config.assetUrl, node.id) }, `Open the page of ${node.name}`)),
      node.id !== config.root
        ? element("li", {}, element("a", { href: urlFor(config.lineagePageUrl, node.id) }, "Open its lineage page"))
        : null,
    );
    panel.append(links);
    const hidden = hiddenOf(node, counts);
    const actions = element("ul", { class: "actions" });
    for (const item of expandButtons(node, hidden, "panel")) actions.append(element("li", {}, item));
    actions.append(
      element(
        "li",
        {},
        button("Path from here", () => setPathEnd(pathFrom, node.id), { "data-focus-key": "panel:from" }),
      ),
      element("li", {}, button("Path to here", () => setPathEnd(pathTo, node.id), { "data-focus-key": "panel:to" })),
    );
    panel.append(actions);
  }

  function drawGroupPanel(title, group) {
    title.textContent = groupLabel(group);
    panel.append(
      element(
        "p",
        {},
        `${group.direction === "upstream" ? "Upstream" : "Downstream"} of ${nameOf(group.via)}, drawn as one group to ` +
          "keep the graph readable. Show one in the graph to follow its lineage.",
      ),
    );
    const filterId = "lineage-group-filter";
    const filter = element("input", { type: "search", id: filterId, "data-focus-key": "group:filter" });
    panel.append(element("div", { class: "form__field" }, element("label", { for: filterId }, "Filter the list"), filter));
    const list = element("ul", { class: "lineage__members", "data-lineage-members": true });
    for (const id of group.members) {
      const node = state.nodes.get(id);
      const name = node.restricted
        ? element("span", { class: "muted" }, "Restricted asset")
        : element("a", { href: urlFor(config.assetUrl, id) }, node.name);
      const show = button("Show in graph", () => pullOut(id), {
        "aria-label": `Show ${node.name} in the graph`,
        "data-focus-key": `member:${id}`,
      });
      list.append(element("li", { "data-name": node.name.toLowerCase() }, name, show));
    }
    filter.addEventListener("input", () => {
      const text = filter.value.trim().toLowerCase();
      for (const item of list.children) {
        item.hidden = Boolean(text) && !item.dataset.name.includes(text);
      }
    });
    panel.append(list);
  }

  function renderText(counts) {
    keepingFocus(nodesBody, () => {
      nodesBody.replaceChildren();
      const order = (item) => (item.id() === config.root ? 0 : 1);
      const drawn = cy
        .nodes()
        .toArray()
        .sort((a, b) => order(a) - order(b) || nameOf(a.id()).localeCompare(nameOf(b.id())));
      for (const item of drawn) {
        const id = item.id();
        const group = state.groups.get(id);
        const row = element("tr", { "data-node-id": id });
        if (group) {
          row.append(
            element("th", { scope: "row" }, `${groupLabel(group)} (group)`),
            element("td", {}, kindLabel(group.kind)),
            element("td", {}, `${group.direction === "upstream" ? "Upstream" : "Downstream"} of ${nameOf(group.via)}`),
            element("td", {}, "—"),
            element(
              "td",
              {},
              button("List", () => select(id), {
                "aria-label": `List the ${groupLabel(group)}`,
                "data-focus-key": `row:list:${id}`,
              }),
            ),
          );
        } else {
          const node = state.nodes.get(id);
          const hidden = hiddenOf(node, counts);
          const name = node.restricted
            ? element("span", { class: "muted" }, "Restricted asset")
            : element("a", { href: urlFor(config.assetUrl, id) }, node.name);
          let notShown = "—";
          if (hidden) {
            const parts = [];
            if (hidden.upstream) parts.push(`${hidden.upstream} upstream`);
            if (hidden.downstream) parts.push(`${hidden.downstream} downstream`);
            notShown = parts.join(", ") || "Nothing";
          } else if (!node.restricted) {
            notShown = "Not loaded yet";
          }
          row.append(
            element("th", { scope: "row" }, name),
            element("td", {}, kindLabel(node.kind)),
            element("td", {}, whereOf(node)),
            element("td", {}, notShown),
            element(
              "td",
              {},
              button("Select", () => select(id), {
                "aria-label": `Select ${node.name}`,
                "data-focus-key": `row:select:${id}`,
              }),
              node.restricted ? null : expandButtons(node, hidden, "row"),
            ),
          );
        }
        nodesBody.append(row);
      }
    });
    edgesBody.replaceChildren();
    for (const link of state.links.values()) {
      const kind = EDGE_LABELS[link.kind] || link.kind;
      edgesBody.append(
        element(
          "tr",
          {},
          element("td", {}, nameOf(link.source)),
          element("td", {}, link.edgeIds.length > 1 ? `${kind} (${link.edgeIds.length} links)` : kind),
          element("td", {}, nameOf(link.target)),
        ),
      );
    }
    const shown = cy.nodes().length;
    const links = state.links.size;
    summary.textContent =
      `The graph as text: ${shown} ${shown === 1 ? "asset or group" : "assets and groups"}, ` +
      `${plural(links, "link")}`;
  }

  function renderPathOptions() {
    for (const select of [pathFrom, pathTo]) {
      const current = select.value;
      const options = [...state.nodes.values()]
        .filter((node) => !node.restricted)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((node) => element("option", { value: node.id }, `${node.name} (${kindLabel(node.kind)})`));
      select.replaceChildren(element("option", { value: "" }, "Choose an asset"), ...options);
      select.value = state.nodes.has(current) ? current : "";
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // What people do

  function select(id) {
    state.selected = id && cy.getElementById(id).nonempty() ? id : null;
    applyHighlight();
    renderPanel();
  }

  // A click on a node selects it and, when it has neighbours not shown yet, loads them: further upstream for an
  // upstream asset, further downstream for a downstream one, both ways for the starting asset.
  function activate(id) {
    select(id);
    const node = state.nodes.get(id);
    if (!node || node.restricted) {
      return;
    }
    const direction = node.id === config.root || !node.direction ? "both" : node.direction;
    const hidden = hiddenOf(node, linkCounts());
    const more = hidden === null || (direction === "both" ? hidden.upstream + hidden.downstream : hidden[direction]) > 0;
    if (more) {
      expand(id, direction);
    }
  }

  function pullOut(id) {
    state.pinned.add(id);
    render();
    select(id);
    announce(`${nameOf(id)} is now drawn on its own.`);
  }

  async function expand(id, direction) {
    const node = state.nodes.get(id);
    if (!node || node.restricted) {
      return;
    }
    state.pinned.add(id);
    const generation = state.generation;
    const where = direction === "both" ? "around" : `${direction} of`;
    begin(`Loading what is ${where} ${node.name}…`);
    try {
      const data = await getJson(lineageUrl(id, direction));
      if (generation !== state.generation) return;
      const { added } = merge(data, { via: id, degrees: true });
      errorBox.hidden = true;
      render();
      announce(
        added.length
          ? `${plural(added.length, "more asset")} ${where} ${node.name}.`
          : `Nothing more ${where} ${node.name}.`,
      );
    } catch (error) {
      showError(`Could not load the lineage of ${node.name}: ${error.message}`);
      announce("");
    } finally {
      end();
    }
  }

  async function reload() {
    state.generation += 1;
    const generation = state.generation;
    state.nodes.clear();
    state.edges.clear();
    state.pinned = new Set([config.root]);
    state.path = null;
    state.truncated = false;
    state.cycles = false;
    state.selected = null;
    begin("Loading the lineage…");
    try {
      const data = await getJson(lineageUrl(config.root, "both"));
      if (generation !== state.generation) return;
      merge(data, { via: config.root, degrees: true });
      errorBox.hidden = true;
      state.selected = config.root;
      render();
      const around = state.nodes.size - 1;
      announce(
        `${plural(around, "asset")} one step from ${config.rootName}${state.asOf ? `, as of ${state.asOf}` : ""}.`,
      );
    } catch (error) {
      showError(`Could not load the lineage: ${error.message}`);
      announce("");
    } finally {
      state.loaded = true;
      end();
    }
  }

  function setPathEnd(select, id) {
    select.value = id;
    announce(`${nameOf(id)} is the ${select === pathFrom ? "start" : "end"} of the path. Choose the other end, then Highlight path.`);
  }

  async function highlightPath() {
    const from = pathFrom.value;
    const to = pathTo.value;
    if (!from || !to) {
      announce("Choose both ends of the path first.");
      return;
    }
    if (from === to) {
      announce("Choose two different assets.");
      return;
    }
    const params = new URLSearchParams({ from, to });
    if (state.kinds) params.set("kinds", state.kinds.join(","));
    const generation = state.generation;
    begin("Looking for a path…");
    try {
      const data = await getJson(`${config.pathUrl}?${params}`);
      if (generation !== state.generation) return;
      if (!data.direction) {
        state.path = null;
        applyHighlight();
        announce(`No path joins ${nameOf(from)} and ${nameOf(to)}, in either direction.`);
        return;
      }
      const { globalId } = merge(data, { via: null, degrees: false });
      const nodes = new Set(data.paths.flat().map(globalId));
      nodes.forEach((id) => state.pinned.add(id));
      state.path = { nodes, edges: new Set(data.edges.map((edge) => String(edge.id))) };
      render();
      frame(cy.elements(".on-path"));
      const first = data.paths[0].map((id) => nameOf(globalId(id))).join(" → ");
      const others = data.paths.length > 1 ? ` (and ${data.paths.length - 1} other path(s) as short)` : "";
      const current = state.asOf ? " Paths follow the current lineage." : "";
      announce(`Path, ${data.direction}: ${first}${others}.${current}`);
    } catch (error) {
      showError(`Could not find a path: ${error.message}`);
      announce("");
    } finally {
      end();
    }
  }

  function clearPath() {
    state.path = null;
    applyHighlight();
    announce("The path is no longer highlighted.");
  }

  cy.on("tap", "node", (event) => activate(event.target.id()));
  cy.on("tap", (event) => {
    if (event.target === cy) select(null);
  });

  root.querySelectorAll('input[name="lineage-kind"]').forEach((box) => {
    box.addEventListener("change", () => {
      const checked = [...root.querySelectorAll('input[name="lineage-kind"]:checked')].map((item) => item.value);
      if (!checked.length) {
        announce("Choose at least one kind of link to show.");
        return;
      }
      state.kinds = checked.length === config.edgeKinds.length ? null : checked;
      reload();
    });
  });

  const today = new Date();
  asOfInput.max = new Date(today.getTime() - today.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  root.querySelector('[data-lineage-action="as-of"]').addEventListener("click", () => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(asOfInput.value)) {
      announce("Choose a date first.");
      asOfInput.focus();
      return;
    }
    state.asOf = asOfInput.value;
    reload();
  });
  root.querySelector('[data-lineage-action="now"]').addEventListener("click", () => {
    asOfInput.value = "";
    state.asOf = "";
    reload();
  });
  root.querySelector('[data-lineage-action="path"]').addEventListener("click", highlightPath);
  root.querySelector('[data-lineage-action="clear-path"]').addEventListener("click", clearPath);

  // For people who script the page (and for the browser tests): the Cytoscape instance and the explorer's actions.
  window.cartographLineage = {
    cy,
    config,
    state,
    activate,
    expand,
    select,
    reload,
    highlightPath,
    idle: () => state.loaded && state.pending === 0,
    nodeNames: () => [...state.nodes.values()].map((node) => node.name),
  };

  reload();
})();
