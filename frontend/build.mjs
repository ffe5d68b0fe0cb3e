// Copies the browser files of pinned npm packages, and our own CSS/JS, into frontend/build (a STATICFILES_DIR).
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "frontend", "build", "vendor");
mkdirSync(out, { recursive: true });

const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
  // the minified file names its source map; collectstatic's manifest storage needs it present
  "chart.js/dist/chart.umd.min.js.map": "chart.umd.min.js.map",
  // the lineage explorer: Cytoscape.js draws the graph, cytoscape-dagre (which bundles dagre) lays it out in layers
  "cytoscape/dist/cytoscape.min.js": "cytoscape.min.js",
  "cytoscape-dagre/dist/cytoscape-dagre.min.js": "cytoscape-dagre.min.js",
  "cytoscape-dagre/dist/cytoscape-dagre.min.js.map": "cytoscape-dagre.min.js.map",
};
for (const [from, to] of Object.entries(files)) {
  cpSync(join(root, "node_modules", from), join(out, to));
}
console.log(`static assets: ${Object.keys(files).length} vendor files in frontend/build/vendor`);
