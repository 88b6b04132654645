/**
 * Auto-layout with dagre: top-to-bottom layers, the training blocks beside the output.
 *
 * A pure function from a graph (and node sizes) to positions, so the store
 * records a layout as one undoable `move`.
 */

import dagre from "@dagrejs/dagre";
import { LARGE_GRAPH_NODES, layeredPositions } from "./layout-large.js";

export function layoutPositions(graph, { nodeW, nodeH, blockW, blockH, output }) {
  if (graph.nodes.length > LARGE_GRAPH_NODES) {
    return withTrainingBlocks(graph, layeredPositions(graph, { nodeW, nodeH }),
                              { nodeW, nodeH, blockW, output });
  }
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
  return withTrainingBlocks(graph, positions, { nodeW, nodeH, blockW, output });
}

/** The loss below-right of the output, then the optimizer and scheduler to its right. */
function withTrainingBlocks(graph, positions, { nodeW, nodeH, blockW, output }) {
  if (graph.loss && output && positions[output] && !positions.loss) {
    const o = positions[output];
    positions.loss = { x: o.x, y: o.y + nodeH + 40 };
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
