/**
 * Auto-layout with dagre: top-to-bottom layers, the training blocks beside the output.
 *
 * A pure function from a graph (and node sizes) to positions, so the store
 * records a layout as one undoable `move`.
 */

import dagre from "@dagrejs/dagre";

export function layoutPositions(graph, { nodeW, nodeH, blockW, blockH, output }) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 36, ranksep: 40, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: nodeW, height: nodeH });
  for (const n of graph.nodes) for (const src of n.inputs) if (g.hasNode(src)) g.setEdge(src, n.id);
  if (graph.loss && output && g.hasNode(output)) {
    g.setNode("loss", { width: blockW, height: blockH });
    g.setEdge(output, "loss");
  }
  dagre.layout(g);
  const positions = {};
  for (const id of g.nodes()) {
    const { x, y, width, height } = g.node(id);
    positions[id] = { x: Math.round(x - width / 2), y: Math.round(y - height / 2) };
  }
  // The optimizer and scheduler sit to the right of the loss (or of the output).
  const anchor = positions.loss || (output && positions[output]) || { x: 20, y: 20 };
  let x = anchor.x + (positions.loss ? blockW : nodeW) + 40;
  for (const kind of ["optimizer", "scheduler"]) {
    if (!graph[kind]) continue;
    positions[kind] = { x, y: anchor.y };
    x += blockW + 30;
  }
  if (graph.loss && !positions.loss) positions.loss = { x, y: anchor.y };
  return positions;
}
