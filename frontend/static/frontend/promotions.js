// The plan page of a promotion: draws the plan's assets and their dependencies with Cytoscape.js, laid out left to
// right by cytoscape-dagre (what is needed first on the left). Colours say what the step does in the target.
(function () {
  "use strict";

  const COLOURS = { create: "#2e7d32", update: "#b26a00", unchanged: "#757575", map: "#757575" };

  function draw() {
    const container = document.getElementById("promotion-graph");
    const data = document.getElementById("promotion-graph-data");
    if (!container || !data || !window.cytoscape) {
      return;
    }
    const graph = JSON.parse(data.textContent);
    const elements = graph.nodes.map((node) => ({ data: node })).concat(graph.edges.map((edge) => ({ data: edge })));
    const cy = window.cytoscape({
      container,
      elements,
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            "text-wrap": "wrap",
            "text-valign": "bottom",
            "font-size": 10,
            width: 18,
            height: 18,
            "background-color": (node) => COLOURS[node.data("action")] || "#757575",
          },
        },
        { selector: "edge", style: { width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle" } },
      ],
      userZoomingEnabled: false,
    });
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 90 }).run();
    window.cartographPromotion = { cy };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
