/**
 * The layout for large graphs (an imported DenseNet: 428 nodes, thousands of skip
 * edges), where dagre's crossing minimisation takes many seconds. Layers by
 * longest path from the inputs, then one barycentre pass orders each layer under
 * its inputs: linear in the edges, and for the chains-with-skips of real
 * networks it reads the same top-to-bottom way dagre's does.
 */

import { refNode } from "./refs.js";

export const LARGE_GRAPH_NODES = 150;
// A DenseNet block of 12 layers has only 25 nodes but ~90 skip edges, and dagre's
// crossing minimisation takes a quarter of a second on it: a graph with many more
// edges than nodes is large too.
export const DENSE_EDGES_PER_NODE = 1.5;

/** Whether `graph` is laid out by layers (fast) rather than by dagre. */
export function isLarge(graph) {
  if (graph.nodes.length > LARGE_GRAPH_NODES) return true;
  let edges = 0;
  for (const n of graph.nodes) edges += n.inputs?.length ?? 0;
  return edges > 8 && edges > DENSE_EDGES_PER_NODE * graph.nodes.length;
}

export function layeredPositions(graph, { nodeW, nodeH, gapX = 36, gapY = 40, margin = 20 }) {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const inputs = new Map(graph.nodes.map((n) => [n.id, n.inputs.map(refNode).filter((s) => ids.has(s))]));
  const rank = new Map();
  const rankOf = (id, seen = new Set()) => {
    if (rank.has(id)) return rank.get(id);
    if (seen.has(id)) return 0; // a cycle (the validator reports it): stop here
    seen.add(id);
    const r = Math.max(-1, ...inputs.get(id).map((s) => rankOf(s, seen))) + 1;
    rank.set(id, r);
    return r;
  };
  const layers = [];
  for (const n of graph.nodes) (layers[rankOf(n.id)] ||= []).push(n.id);
  const x = new Map();
  layers.forEach((layer, r) => {
    if (r > 0) {
      const centre = (id) => {
        const xs = inputs.get(id).map((s) => x.get(s)).filter((v) => v !== undefined);
        return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
      };
      layer.sort((a, b) => centre(a) - centre(b));
    }
    const width = layer.length * (nodeW + gapX) - gapX;
    layer.forEach((id, i) => x.set(id, i * (nodeW + gapX) - width / 2));
  });
  const left = Math.min(...x.values());
  const positions = {};
  layers.forEach((layer, r) => {
    for (const id of layer) {
      positions[id] = { x: Math.round(x.get(id) - left + margin), y: margin + r * (nodeH + gapY) };
    }
  });
  return positions;
}
