/**
 * Auto-layout with dagre: top-to-bottom layers, the training blocks under the output,
 * and long networks wrapped into columns so they stay readable in the canvas at hand.
 *
 * A pure function from a graph (node sizes, the canvas size) to positions, so the
 * store records a layout as one undoable `move`.
 */

import dagre from "@dagrejs/dagre";
import { isLarge, layeredPositions } from "./layout-large.js";
import { refNode } from "./refs.js";

const COLUMN_GAP = 90; // between wrapped columns: wider than dagre's 36 between branches
const MARGIN = 20;
const PAD = 32; // what the canvas keeps around a fitted network (canvas.js fit padding)

/** `sizes`: id -> {w, h} for nodes drawn larger than nodeW x nodeH (an expanded block). */
export function layoutPositions(graph, { nodeW, nodeH, blockW, blockH, output, view = null, sizes = {} }) {
  const { boxes, edges } = isLarge(graph)
    ? largeBoxes(graph, { nodeW, nodeH })
    : dagreBoxes(graph, { nodeW, nodeH, blockW, blockH, output, sizes });
  // The optimizer and scheduler sit under the loss (or the output), one per row: a
  // canvas beside the training view has room below, not beside.
  const anchor = boxes.loss || (output && boxes[output]) || { x: MARGIN, y: MARGIN, h: nodeH };
  let y = anchor.y + anchor.h + 40;
  for (const kind of ["loss", "optimizer", "scheduler"]) {
    if (!graph[kind] || boxes[kind]) continue;
    boxes[kind] = { x: anchor.x, y, w: blockW, h: blockH };
    y += blockH + 30;
  }
  const placed = view ? wrapColumns(boxes, edges, view) : boxes;
  const positions = {};
  for (const [id, b] of Object.entries(placed)) positions[id] = { x: b.x, y: b.y };
  return positions;
}

/** On large graphs (an imported DenseNet) dagre takes seconds: layer by depth. */
function largeBoxes(graph, { nodeW, nodeH }) {
  const boxes = {};
  for (const [id, p] of Object.entries(layeredPositions(graph, { nodeW, nodeH }))) {
    boxes[id] = { x: p.x, y: p.y, w: nodeW, h: nodeH };
  }
  const ids = new Set(graph.nodes.map((n) => n.id));
  const edges = graph.nodes.flatMap((n) => n.inputs.map(refNode).filter((s) => ids.has(s)).map((s) => [s, n.id]));
  return { boxes, edges };
}

function dagreBoxes(graph, { nodeW, nodeH, blockW, blockH, output, sizes }) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 36, ranksep: 40, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: sizes[n.id]?.w ?? nodeW, height: sizes[n.id]?.h ?? nodeH });
  for (const n of graph.nodes) for (const src of n.inputs.map(refNode)) if (g.hasNode(src)) g.setEdge(src, n.id);
  if (graph.loss && output && g.hasNode(output)) {
    g.setNode("loss", { width: blockW, height: blockH });
    g.setEdge(output, "loss");
  }
  dagre.layout(g);
  const boxes = {};
  for (const id of g.nodes()) {
    const { x, y, width, height } = g.node(id);
    boxes[id] = { x: Math.round(x - width / 2), y: Math.round(y - height / 2), w: width, h: height };
  }
  return { boxes, edges: g.edges().map((e) => [e.v, e.w]) };
}

/**
 * Cut the rows of a tall layout into side-by-side columns when that lets the whole
 * network fit the view at a larger zoom. Cuts only fall where one single edge joins
 * the rows above to the rows below (a chain), so branches are never torn apart and
 * the training blocks stay with the loss.
 */
export function wrapColumns(boxes, edges, view) {
  const rows = [];
  for (const [id, b] of Object.entries(boxes).sort((a, c) => a[1].y + a[1].h / 2 - (c[1].y + c[1].h / 2))) {
    const cy = b.y + b.h / 2;
    const last = rows[rows.length - 1];
    if (last && Math.abs(last.cy - cy) < 2) last.ids.push(id);
    else rows.push({ cy, ids: [id] });
  }
  const rowOf = {};
  rows.forEach((r, i) => r.ids.forEach((id) => { rowOf[id] = i; }));
  const cuts = [];
  for (let i = 1; i < rows.length; i++) {
    const crossing = edges.filter(([a, b]) => rowOf[a] < i && rowOf[b] >= i).length;
    if (crossing === 1 && rows[i - 1].ids.length === 1 && rows[i].ids.length === 1) cuts.push(i);
  }
  let best = { zoom: fitZoom([rows], boxes, view), groups: [rows] };
  for (let k = 2; k <= Math.min(6, cuts.length + 1); k++) {
    const chosen = [];
    for (let j = 1; j < k; j++) {
      const ideal = (rows.length * j) / k;
      const pick = cuts.filter((c) => !chosen.includes(c) && c > (chosen[chosen.length - 1] ?? 0))
        .sort((a, c) => Math.abs(a - ideal) - Math.abs(c - ideal))[0];
      if (pick !== undefined) chosen.push(pick);
    }
    chosen.sort((a, c) => a - c);
    const groups = [];
    let start = 0;
    for (const c of [...chosen, rows.length]) {
      groups.push(rows.slice(start, c));
      start = c;
    }
    const zoom = fitZoom(groups, boxes, view);
    if (zoom > best.zoom * 1.05) best = { zoom, groups };
  }
  if (best.groups.length === 1) return boxes;
  const out = {};
  let left = MARGIN;
  for (const group of best.groups) {
    const ids = group.flatMap((r) => r.ids);
    const x0 = Math.min(...ids.map((id) => boxes[id].x));
    const x1 = Math.max(...ids.map((id) => boxes[id].x + boxes[id].w));
    const y0 = Math.min(...ids.map((id) => boxes[id].y));
    for (const id of ids) out[id] = { ...boxes[id], x: boxes[id].x - x0 + left, y: boxes[id].y - y0 + MARGIN };
    left += x1 - x0 + COLUMN_GAP;
  }
  return out;
}

/** The zoom at which columns made of these row groups fit the view (at most 1). */
function fitZoom(groups, boxes, view) {
  let width = 0;
  let height = 0;
  for (const group of groups) {
    const ids = group.flatMap((r) => r.ids);
    width += Math.max(...ids.map((id) => boxes[id].x + boxes[id].w)) - Math.min(...ids.map((id) => boxes[id].x));
    height = Math.max(height, Math.max(...ids.map((id) => boxes[id].y + boxes[id].h)) - Math.min(...ids.map((id) => boxes[id].y)));
  }
  width += COLUMN_GAP * (groups.length - 1);
  return Math.min(1, (view.width - 2 * PAD) / width, (view.height - 2 * PAD) / height);
}
