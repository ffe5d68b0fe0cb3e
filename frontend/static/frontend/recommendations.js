// Draws a product's relationships in the knowledge graph with Cytoscape.js whenever the "Joins well with" panel is
// loaded or replaced. The table under the graph says the same in text, so the page works without this script.
(function () {
  "use strict";

  function draw(root) {
    const container = root.querySelector("[data-relationship-graph]");
    const data = root.querySelector("#relationship-graph-data");
    if (!container || !data || typeof window.cytoscape === "undefined") {
      return;
    }
    const graph = JSON.parse(data.textContent);
    const centre = graph.nodes.find((node) => node.hop === 0);
    const elements = [
      ...graph.nodes.map((node) => ({ data: { id: String(node.id), label: node.name, url: node.url, hop: node.hop } })),
      ...graph.edges.map((edge) => ({
        data: { id: "r" + edge.id, source: String(edge.source), target: String(edge.target), label: edge.name },
      })),
    ];
    const cy = window.cytoscape({
      container: container,
      elements: elements,
      layout: {
        name: "concentric",
        concentric: (node) => 10 - node.data("hop"),
        levelWidth: () => 1,
        minNodeSpacing: 70,
        padding: 30,
      },
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            "background-color": "#dcefe0",
            "border-color": "#2f8f83",
            "border-width": 1,
            "font-size": 11,
            "text-valign": "bottom",
            "text-margin-y": 4,
          },
        },
        { selector: centre ? `node[id = "${centre.id}"]` : "node[hop = 0]", style: { "background-color": "#2457a6" } },
        {
          selector: "edge",
          style: {
            label: "data(label)",
            "font-size": 10,
            width: 1.5,
            "line-color": "#7a8594",
            "target-arrow-color": "#7a8594",
            "target-arrow-shape": "triangle",
            "curve-style": "bezier",
            "text-rotation": "autorotate",
          },
        },
      ],
      userZoomingEnabled: false,
    });
    cy.on("tap", "node", (event) => {
      const url = event.target.data("url");
      if (url) {
        window.location.assign(url);
      }
    });
    container.setAttribute("data-graph-drawn", String(graph.nodes.length));
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    const panel = document.querySelector("[data-joins-panel]");
    if (panel && (event.target === panel || panel.contains(event.target) || event.target.contains(panel))) {
      draw(panel);
    }
  });
})();
