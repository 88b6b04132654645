/**
 * An expanded block instance on the canvas: the instance becomes a group as large as
 * its block's inside, drawn in place (scaled down) as read-only cells and edges. The
 * instance keeps its own ports, so the network's edges still meet it where they did.
 *
 * A pure function from (graph, instance) to cell descriptions that canvas.js adds;
 * the inner cells carry `kind: "inner"`, which canvas.js never selects, moves or
 * reports, and a double-click on one opens the block for editing.
 */

import { blockNameOf, blockOutputs } from "./blocks.js";
import { categoryColor, entry } from "./catalog.js";
import { refNode } from "./refs.js";

const INNER_W = 150;
const INNER_H = 40;
const SX = 0.75; // 230 px between columns in a block -> 172: room for a 150 px card
const SY = 0.5; // 130 px between rows -> 65: room for a 40 px card
const PAD = 16;
const HEAD = 64; // the group's own title, shape and params lines

export const innerCellId = (owner, id) => `__x|${owner}|${id}`;

/** {w, h, cells, edges} for instance `node` drawn expanded, or null when its block is unknown. */
export function expandedCells(g, node, { nodeW, nodeH }) {
  const def = g.blocks?.[blockNameOf(node.type)];
  if (!def?.nodes?.length) return null;
  const xs = def.nodes.map((n) => n.ui?.x ?? 0);
  const ys = def.nodes.map((n) => n.ui?.y ?? 0);
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  const w = Math.max(nodeW, (Math.max(...xs) - minX) * SX + INNER_W + 2 * PAD);
  const h = Math.max(nodeH, (Math.max(...ys) - minY) * SY + INNER_H + HEAD + PAD);
  const at = { x: node.ui?.x ?? 0, y: node.ui?.y ?? 0 };
  const outs = new Set(blockOutputs(def).map(refNode));
  const cells = def.nodes.map((n) => ({
    id: innerCellId(node.id, n.id),
    w: INNER_W,
    h: INNER_H,
    zIndex: 2,
    ports: [],
    pos: {
      x: Math.round(at.x + PAD + ((n.ui?.x ?? 0) - minX) * SX),
      y: Math.round(at.y + HEAD + ((n.ui?.y ?? 0) - minY) * SY),
    },
    data: {
      id: n.id,
      cellId: innerCellId(node.id, n.id),
      kind: "inner",
      owner: node.id,
      type: blockNameOf(n.type) ? `▣ ${blockNameOf(n.type)}` : n.type,
      label: n.id,
      testid: `inner-${node.id}-${n.id}`,
      color: categoryColor(entry(n.type)?.category || (blockNameOf(n.type) ? "block" : "unknown")),
      state: "",
      meta: outs.has(n.id) ? "output" : "",
      aria: `${n.type} ${n.id}, inside ${node.id} (read-only)`,
    },
  }));
  const ids = new Set(def.nodes.map((n) => n.id));
  const edges = def.nodes.flatMap((n) => (n.inputs || []).filter((ref) => ids.has(refNode(ref))).map((ref, i) => ({
    id: `x|${node.id}|${refNode(ref)}|${n.id}|${i}`,
    source: { cell: innerCellId(node.id, refNode(ref)), anchor: { name: "bottom" } },
    target: { cell: innerCellId(node.id, n.id), anchor: { name: "top" } },
    connector: { name: "smooth" },
    attrs: { line: { class: "tc-line tc-line-inner", stroke: "#888", strokeWidth: 1.5, targetMarker: "classic" } },
    zIndex: 2,
  })));
  return { w: Math.round(w), h: Math.round(h), cells, edges };
}
