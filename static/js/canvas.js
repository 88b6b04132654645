/**
 * The canvas: an X6 graph that draws the graph state and reports what the user does.
 *
 * It never edits the graph itself. `render(graph, validation)` brings the X6 cells
 * in line with the document (layer nodes, loss/optimizer/scheduler blocks, one
 * edge per entry of a node's `inputs`, labelled with the shape it carries); user
 * gestures (drop, connect, move, select, remove an edge) go to the `handlers`
 * given by main.js, which change the store, which renders again. Hovering an
 * edge reports it (`onEdgeHover`/`onEdgeLeave`) for the X-ray popover; `setCost`
 * puts each node's FLOPs and training memory on its card. X6 comes from its
 * script-tag build as `window.X6`. A node with several outputs (Split, a block
 * with several outputs) gets one output port each (`out-0`, `out-1`, ...), and an
 * edge drawn from one becomes a `{node, port}` reference; an expanded block instance
 * is drawn as a group holding its inner nodes, read-only (canvas-groups.js).
 */

import { nodeEntry, portCount } from "./blocks.js";
import { blockData, nodeData, nodeElement, PORT_GROUPS, portItems, showCost, sourcePort } from "./canvas-cells.js";
import { expandedCells } from "./canvas-groups.js";
import { fmtShape } from "./catalog.js";
import { BLOCK_KINDS } from "./graph-state.js";
import { outputList, refNode, refPort } from "./refs.js";

const { Graph, Shape, Selection, MiniMap, Snapline, NodeView } = window.X6;

export const NODE_W = 200;
export const NODE_H = 76;
export const BLOCK_W = 180;
export const BLOCK_H = 60;
const BLOCK_ID = (kind) => `__${kind}`;
const DND_TYPE = "application/x-torchcanvas-type";

let graph = null;
let selection = null; // the X6 Selection plugin (the script build does not mix its API into Graph)
let handlers = {};
let lastValidation = null;
let lastGraph = null;
let lastCost = null; // POST /api/graphs/cost's answer for the graph on screen, or null
let rendering = false;
let dragging = false;
const INTERACTING = { edgeMovable: false, arrowheadMovable: false, vertexMovable: false, vertexAddable: false };
const isInner = (cell) => cell.getData()?.kind === "inner";

Shape.HTML.register({
  shape: "tc-node",
  width: NODE_W,
  height: NODE_H,
  effect: ["data"],
  html: (cell) => nodeElement(cell.getData(), {
    pick: (id) => {
      handlers.onSelect?.([id]);
      select([id]);
    },
    isSelected: (cellId) => selection.isSelected(cellId),
  }),
});

// -- set-up ----------------------------------------------------------------------

export function createCanvas({ container, minimap, on }) {
  handlers = on;
  graph = new Graph({
    container,
    autoResize: true,
    // The inside of an expanded block is read-only: open the block to edit it.
    interacting: (view) => (view.cell.getData()?.kind === "inner" ? false : INTERACTING),
    // Only cells in (or near) the viewport get DOM: an imported DenseNet's 428 nodes and
    // 600 labelled edges were all laid out and painted before the page answered.
    virtual: true,
    grid: { visible: true, size: 10, type: "dot", args: { color: "#8888aa55", thickness: 1 } },
    panning: { enabled: true, eventTypes: ["leftMouseDown"] },
    mousewheel: { enabled: true, factor: 1.1, minScale: 0.2, maxScale: 2.5 },
    connecting: {
      snap: { radius: 24 },
      allowBlank: false,
      allowLoop: false,
      allowNode: false,
      allowEdge: false,
      allowMulti: true,
      highlight: true,
      router: "normal",
      connector: { name: "smooth" },
      validateMagnet: ({ magnet }) => magnet.getAttribute("port-group") === "out",
      validateConnection: ({ sourceCell, targetCell, targetMagnet }) => {
        if (!sourceCell || !targetCell || !targetMagnet) return false;
        // Only port kinds are checked here: a refused link (a cycle) is dropped by
        // onConnect, which can tell the user why instead of silently not snapping.
        return targetMagnet.getAttribute("port-group") === "in" && sourceCell !== targetCell;
      },
      createEdge: () => graph.createEdge({ attrs: { line: { class: "tc-line", stroke: "#888", strokeWidth: 2, targetMarker: "classic" } } }),
    },
    highlighting: {
      magnetAvailable: { name: "className", args: { className: "tc-port-available" } },
      magnetAdsorbed: { name: "className", args: { className: "tc-port-adsorbed" } },
    },
  });
  selection = new Selection({
    enabled: true, multiple: true, rubberband: true, modifiers: ["shift"], movable: true,
    showNodeSelectionBox: true, pointerEvents: "none", filter: (cell) => !isInner(cell),
  });
  graph.use(selection);
  graph.use(new Snapline({ enabled: true }));
  if (minimap) useMinimap(container, minimap);

  graph.on("edge:connected", ({ edge, isNew }) => {
    if (!isNew) return;
    const src = edge.getSourceCellId();
    const dst = edge.getTargetCellId();
    const port = Number((edge.getSourcePortId() || "").split("-")[1] || 0);
    graph.removeEdge(edge);
    handlers.onConnect?.(cellToId(src), cellToId(dst), port);
  });
  // Double-click opens a block instance (or the block an inner node belongs to).
  graph.on("node:dblclick", ({ node }) => {
    const d = node.getData() || {};
    if (d.kind === "inner") handlers.onOpen?.(d.owner);
    else if (d.block) handlers.onOpen?.(d.id);
  });
  graph.on("node:contextmenu", ({ e, node }) => {
    if (isInner(node)) return;
    e.preventDefault?.();
    handlers.onContextMenu?.(cellToId(node.id), e.clientX, e.clientY);
  });
  // While the user drags, a late re-render (a validation answer) must not snap nodes back.
  graph.on("node:mousedown", () => { dragging = true; });
  graph.on("node:mouseup", () => { dragging = false; });
  graph.on("node:moved", () => {
    dragging = false;
    queueMoveReport();
  });
  graph.on("selection:changed", () => {
    if (!rendering) handlers.onSelect?.(selectedIds().nodes);
  });
  // Hovering an edge asks for the X-ray of the value flowing along it. X6 3.x reports
  // mouseover/out per element of the edge (its path, its label), not enter/leave: moving
  // from the line onto its label is not leaving, so a leave waits for the next over.
  let hovered = null;
  let leaving = null;
  graph.on("edge:mouseover", ({ edge, e }) => {
    clearTimeout(leaving);
    const d = edge.getData();
    if (hovered === edge.id || d?.src === undefined) return;
    hovered = edge.id;
    handlers.onEdgeHover?.(d, e.clientX, e.clientY);
  });
  graph.on("edge:mouseout", () => {
    clearTimeout(leaving);
    leaving = setTimeout(() => {
      hovered = null;
      handlers.onEdgeLeave?.();
    }, 60);
  });

  container.addEventListener("dragover", (e) => {
    if (e.dataTransfer.types.includes(DND_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    }
  });
  container.addEventListener("drop", (e) => {
    const type = e.dataTransfer.getData(DND_TYPE);
    if (!type) return;
    e.preventDefault();
    const p = graph.clientToLocal(e.clientX, e.clientY);
    handlers.onDrop?.(type, { x: p.x - NODE_W / 2, y: p.y - NODE_H / 2 });
  });
  return graph;
}

/**
 * The minimap: a layer dropped on it lands at that spot of the network (it used to
 * vanish), and it is re-fitted whenever the canvas changes size (resizing the
 * training view left its viewport box computed from the old size).
 */
function useMinimap(container, box) {
  // The minimap draws each layer as a plain box and no edges: rendering the full HTML
  // nodes and labelled edges a second time cost as much as the canvas itself.
  const plugin = new MiniMap({
    container: box, width: 150, height: 100, padding: 8,
    graphOptions: { createCellView: (cell) => (cell.isEdge() ? null : NodeView) },
  });
  graph.use(plugin);
  const refit = () => requestAnimationFrame(() => {
    plugin.targetGraph?.zoomToFit?.();
    plugin.updateViewport?.();
  });
  new ResizeObserver(refit).observe(container);
  box.addEventListener("dragover", (e) => {
    if (e.dataTransfer.types.includes(DND_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    }
  });
  box.addEventListener("drop", (e) => {
    const type = e.dataTransfer.getData(DND_TYPE);
    if (!type) return;
    e.preventDefault();
    const p = plugin.targetGraph ? plugin.targetGraph.clientToLocal(e.clientX, e.clientY) : null;
    handlers.onDrop?.(type, p ? { x: p.x - NODE_W / 2, y: p.y - NODE_H / 2 } : viewCentre());
  });
}

export function startDrag(event, type) {
  event.dataTransfer.setData(DND_TYPE, type);
  event.dataTransfer.setData("text/plain", type);
  event.dataTransfer.effectAllowed = "copy";
}

const cellToId = (cellId) => (cellId.startsWith("__") && BLOCK_KINDS.includes(cellId.slice(2)) ? cellId.slice(2) : cellId);

let moveQueued = false;
function queueMoveReport() {
  if (moveQueued) return;
  moveQueued = true;
  setTimeout(() => {
    moveQueued = false;
    const positions = {};
    for (const node of graph.getNodes()) {
      if (isInner(node)) continue;
      const p = node.getPosition();
      const id = cellToId(node.id);
      const known = knownPosition(id);
      if (!known || known.x !== Math.round(p.x) || known.y !== Math.round(p.y)) positions[id] = p;
    }
    if (Object.keys(positions).length) handlers.onMove?.(positions);
  }, 0);
}

function knownPosition(id) {
  if (!lastGraph) return null;
  const target = BLOCK_KINDS.includes(id) ? lastGraph[id] : lastGraph.nodes.find((n) => n.id === id);
  return target?.ui || null;
}

// -- rendering --------------------------------------------------------------------

/** The output the loss reads: the chosen one (of a list: the loss's `output` entry), else the validator's. */
export function outputRef(g, v) {
  const list = outputList(g.output || v?.output || null);
  return list[g.loss?.output ?? 0] ?? list[0] ?? null;
}

/** The node the loss is attached to. */
export function outputOf(g, v) {
  const ref = outputRef(g, v);
  return ref === null ? null : refNode(ref);
}

export function render(g, v = lastValidation) {
  lastGraph = g;
  lastValidation = v;
  rendering = true;
  // The minimap refits itself on every model change: thousands of refits while a large
  // import is added (12 s for DenseNet-121's 428 nodes). Let it refit once, at the end.
  const minimap = graph.getPlugin("minimap");
  minimap?.stopListening();
  try {
    renderCells(g, v);
  } finally {
    minimap?.startListening();
    minimap?.onModelUpdated();
  }
  rendering = false;
}

/** Show each node's cost (POST /api/graphs/cost's answer), or none (null). */
export function setCost(cost) {
  lastCost = cost;
  if (!lastGraph) return;
  // Patch the badges in place (and the cells' data, silently): re-rendering every card
  // would replace each element under the user's pointer whenever an answer arrives.
  const outputs = new Set(outputList(lastGraph.output || lastValidation?.output || null).map(refNode));
  const cards = new Map();
  for (const el of graph.container.querySelectorAll(".tc-node.kind-layer")) cards.set(el.dataset.testid, el);
  for (const node of lastGraph.nodes) {
    const cell = graph.getCellById(node.id);
    if (!cell) continue;
    const d = nodeData(node, lastValidation, outputs, lastGraph, lastCost);
    cell.setData(d, { overwrite: true, silent: true });
    const el = cards.get(d.testid);
    if (el) showCost(el, d);
  }
}

function renderCells(g, v) {
  graph.batchUpdate(() => {
    const output = outputOf(g, v);
    const outputs = new Set(outputList(g.output || v?.output || null).map(refNode));
    const want = new Map();
    const outs = new Map();
    const inner = [];
    for (const n of g.nodes) {
      const e = nodeEntry(g, n.type);
      const arity = e?.arity || { min: 1, max: 1 };
      outs.set(n.id, portCount(g, n, v?.nodes?.[n.id]));
      const group = n.ui?.expanded ? expandedCells(g, n, { nodeW: NODE_W, nodeH: NODE_H }) : null;
      want.set(n.id, {
        data: nodeData(n, v, outputs, g, lastCost), pos: n.ui, w: group?.w ?? NODE_W, h: group?.h ?? NODE_H,
        ports: portItems(n.id, arity.max !== 0, outs.get(n.id), e?.outputs), zIndex: group ? 0 : 1,
      });
      if (group) {
        for (const c of group.cells) want.set(c.id, c);
        inner.push(...group.edges);
      }
    }
    for (const kind of BLOCK_KINDS) {
      if (!g[kind]) continue;
      want.set(BLOCK_ID(kind), {
        data: blockData(kind, g[kind], v), pos: g[kind].ui, w: BLOCK_W, h: BLOCK_H,
        ports: portItems(kind, kind === "loss", false),
      });
    }
    for (const cell of graph.getNodes()) if (!want.has(cell.id)) graph.removeNode(cell);
    for (const [cellId, w] of want) upsertNode(cellId, w);

    const edges = new Map();
    for (const n of g.nodes) {
      const max = nodeEntry(g, n.type)?.arity?.max;
      n.inputs.forEach((ref, i) => {
        const src = refNode(ref);
        const port = refPort(ref);
        const sv = v?.nodes?.[src];
        const shape = sv?.output_shapes ? sv.output_shapes[port] : sv?.output_shape;
        const label = `${max !== 1 && n.inputs.length > 1 ? `#${i + 1}  ` : ""}${shape ? fmtShape(shape) : ""}`;
        // The id names both ends: a reused id for a new source left stale edges behind.
        const id = `e|${src}${port ? `#${port}` : ""}|${n.id}|${i}`;
        edges.set(id, { src, dst: n.id, srcPort: sourcePort(ref, outs.get(src) ?? 1), label, data: { dst: n.id, index: i, removable: true, src, port } });
      });
    }
    const lossRef = outputRef(g, v);
    if (g.loss && output && want.has(output)) {
      edges.set(`e|${output}|__loss|0`, { src: output, dst: BLOCK_ID("loss"), srcPort: sourcePort(lossRef, outs.get(output) ?? 1), label: "", dashed: true, data: { dst: "__loss", index: 0, removable: !!g.output, src: output, port: refPort(lossRef) } });
    }
    for (const e of graph.getEdges()) {
      if (!e.id.startsWith("e|")) continue; // an edge the user is drawing right now
      const w = edges.get(e.id);
      if (!w || e.getSourceCellId() !== w.src || e.getTargetCellId() !== w.dst || !want.has(w.src)
        || (e.getSourcePortId() || null) !== w.srcPort) graph.removeEdge(e);
    }
    for (const [id, w] of edges) {
      if (!want.has(w.src) || !want.has(w.dst)) continue;
      const existing = graph.getCellById(id);
      const labels = w.label ? [{ attrs: { label: { text: w.label, class: "tc-edge-label" }, body: { class: "tc-edge-label-bg" } } }] : [];
      if (existing) {
        if (JSON.stringify(existing.getLabels()) !== JSON.stringify(labels)) existing.setLabels(labels);
        if (JSON.stringify(existing.getData()) !== JSON.stringify(w.data)) existing.setData(w.data, { overwrite: true });
        continue;
      }
      graph.addEdge({
        id,
        source: w.srcPort ? { cell: w.src, port: w.srcPort } : { cell: w.src },
        target: { cell: w.dst, port: "in" },
        connector: { name: "smooth" },
        data: w.data,
        labels,
        attrs: { line: { class: `tc-line${w.dashed ? " tc-line-loss" : ""}`, stroke: "#888", strokeWidth: 2, targetMarker: "classic", strokeDasharray: w.dashed ? "6 4" : "" } },
        zIndex: 0,
      });
    }
    const innerIds = new Set(inner.map((w) => w.id));
    for (const e of graph.getEdges()) if (e.id.startsWith("x|") && !innerIds.has(e.id)) graph.removeEdge(e);
    for (const w of inner) if (!graph.getCellById(w.id)) graph.addEdge(w);
  });
}

function upsertNode(cellId, w) {
  const pos = { x: w.pos?.x ?? 0, y: w.pos?.y ?? 0 };
  const cell = graph.getCellById(cellId);
  if (!cell) {
    graph.addNode({
      id: cellId, shape: "tc-node", x: pos.x, y: pos.y, width: w.w, height: w.h, data: w.data,
      ports: { groups: PORT_GROUPS, items: w.ports }, zIndex: w.zIndex ?? 1,
    });
    return;
  }
  const p = cell.getPosition();
  if (!dragging && (Math.round(p.x) !== pos.x || Math.round(p.y) !== pos.y)) cell.setPosition(pos.x, pos.y);
  const size = cell.getSize();
  if (size.width !== w.w || size.height !== w.h) cell.resize(w.w, w.h);
  if (JSON.stringify(cell.getData()) !== JSON.stringify(w.data)) cell.setData(w.data, { overwrite: true });
  // The number of output ports follows the params (Split's sections) and the validator.
  const ports = cell.getPorts();
  if (JSON.stringify(ports.map((q) => q.id)) !== JSON.stringify(w.ports.map((q) => q.id))) {
    cell.prop("ports", { groups: PORT_GROUPS, items: w.ports });
  }
  if ((cell.getZIndex() ?? 1) !== (w.zIndex ?? 1)) cell.setZIndex(w.zIndex ?? 1);
}

// -- selection, view ----------------------------------------------------------------

export function selectedIds() {
  const nodes = [];
  const edges = [];
  for (const c of selection.getSelectedCells()) {
    if (isInner(c)) continue;
    if (c.isNode()) nodes.push(cellToId(c.id));
    else if (c.getData()?.removable) edges.push(c.getData());
  }
  return { nodes, edges };
}

export function select(ids) {
  rendering = true;
  selection.reset(ids.map((id) => (BLOCK_KINDS.includes(id) ? BLOCK_ID(id) : id)).filter((id) => graph.getCellById(id)));
  rendering = false;
}

/** Scroll the view so a node is visible (when it is picked from a list, not the canvas). */
export function reveal(id) {
  const cell = graph.getCellById(BLOCK_KINDS.includes(id) ? BLOCK_ID(id) : id);
  if (!cell) return;
  const box = cell.getBBox();
  const view = graph.container.getBoundingClientRect();
  const a = graph.localToClient(box.x, box.y);
  const b = graph.localToClient(box.x + box.width, box.y + box.height);
  if (a.x < view.left || a.y < view.top || b.x > view.right || b.y > view.bottom) graph.centerCell(cell);
}

export function selectAll() {
  selection.reset(graph.getNodes().filter((c) => !isInner(c)));
}

export const zoomIn = () => graph.zoom(0.15);
export const zoomOut = () => graph.zoom(-0.15);
export const zoomReset = () => graph.zoomTo(1);
export function fit() {
  if (graph.getNodes().length) graph.zoomToFit({ padding: 32, maxScale: 1, minScale: 0.1 });
}

/** id -> {w, h} of the nodes drawn larger than a layer card (expanded blocks), for the layout. */
export function cellSizes() {
  const sizes = {};
  for (const cell of graph.getNodes()) {
    const { width, height } = cell.getSize();
    if (!isInner(cell) && (width > NODE_W || height > NODE_H)) sizes[cellToId(cell.id)] = { w: width, h: height };
  }
  return sizes;
}

/** The canvas's size in screen pixels (null before it is laid out). */
export function viewSize() {
  const el = graph?.container;
  return el && el.clientWidth > 0 ? { width: el.clientWidth, height: el.clientHeight } : null;
}

/** Fit when the text stays readable; otherwise show the top (the inputs) at a readable zoom. */
export function fitReadable() {
  if (!graph.getNodes().length) return;
  const min = 0.6; // 13 px titles read at about 8 px: the least that stays legible
  graph.zoomToFit({ padding: 32, maxScale: 1, minScale: min });
  if (graph.zoom() <= min + 1e-3) {
    graph.positionContent("top");
    const { tx, ty } = graph.translate();
    graph.translate(tx, ty + 24);
  }
}
/** The canvas point at the centre of the visible area (for keyboard adds and paste). */
export function viewCentre() {
  const rect = graph.container.getBoundingClientRect();
  const p = graph.clientToLocal(rect.left + rect.width / 2, rect.top + rect.height / 2);
  return { x: Math.round(p.x - NODE_W / 2), y: Math.round(p.y - NODE_H / 2) };
}
