/**
 * The canvas: an X6 graph that draws the graph state and reports what the user does.
 *
 * It never edits the graph itself. `render(graph, validation)` brings the X6 cells
 * in line with the document (layer nodes, loss/optimizer/scheduler blocks, one
 * edge per entry of a node's `inputs`, labelled with the shape it carries); user
 * gestures (drop, connect, move, select, remove an edge) go to the `handlers`
 * given by main.js, which change the store, which renders again. X6 comes from
 * its script-tag build as `window.X6`.
 */

import { categoryColor, entry, fmtCount, fmtShape } from "./catalog.js";
import { BLOCK_KINDS } from "./graph-state.js";

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
let rendering = false;
let dragging = false;

Shape.HTML.register({
  shape: "tc-node",
  width: NODE_W,
  height: NODE_H,
  effect: ["data"],
  html: (cell) => nodeElement(cell.getData()),
});

// -- node content --------------------------------------------------------------

function nodeElement(d) {
  const el = document.createElement("div");
  el.className = `tc-node kind-${d.kind}${d.state ? ` is-${d.state}` : ""}${d.frozen ? " is-frozen" : ""}`;
  el.style.setProperty("--cat", d.color);
  el.dataset.testid = d.testid;
  el.setAttribute("role", "button");
  el.setAttribute("tabindex", "0");
  el.setAttribute("aria-label", d.aria);
  const title = document.createElement("div");
  title.className = "tc-node-title";
  title.append(span("tc-type", d.type), span("tc-id", d.label));
  el.append(title);
  if (d.shape !== undefined) el.append(span("tc-node-shape", d.shape, "div"));
  if (d.meta) el.append(span("tc-node-meta", d.meta, "div"));
  if (d.message) {
    // The card has room for one line: the whole message is its tooltip (and in the inspector).
    el.append(span("tc-node-msg", d.message, "div"));
    el.title = d.message;
  }
  el.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      handlers.onSelect?.([d.id]);
      select([d.id]);
    }
  });
  el.addEventListener("focus", () => {
    // Keyboard focus selects; a mouse click is left to X6's own selection.
    if (el.matches(":focus-visible") && !selection.isSelected(d.cellId)) {
      handlers.onSelect?.([d.id]);
      select([d.id]);
    }
  });
  return el;
}

function span(cls, text, tag = "span") {
  const s = document.createElement(tag);
  s.className = cls;
  s.textContent = text;
  return s;
}

function portItems(id, hasIn, hasOut) {
  const items = [];
  if (hasIn) items.push({ id: "in", group: "in", attrs: { circle: { "data-testid": `port-${id}-in`, "aria-label": `${id} input` } } });
  if (hasOut) items.push({ id: "out", group: "out", attrs: { circle: { "data-testid": `port-${id}-out`, "aria-label": `${id} output` } } });
  return items;
}

const PORT_GROUPS = {
  in: { position: "top", attrs: { circle: { r: 7, magnet: "passive", class: "tc-port tc-port-in" } } },
  out: { position: "bottom", attrs: { circle: { r: 7, magnet: true, class: "tc-port tc-port-out" } } },
};

function nodeData(node, v, output) {
  const e = entry(node.type);
  const nv = v?.nodes?.[node.id];
  const errors = nv?.errors || [];
  const warnings = nv?.warnings || [];
  const state = !e ? "error" : errors.length ? "error" : warnings.length ? "warning" : "";
  const message = !e ? `unknown type ${node.type}` : errors[0]?.message || warnings[0]?.message || "";
  const shape = nv?.output_shape ? fmtShape(nv.output_shape) : "–";
  const meta = [`${fmtCount(nv?.params ?? null)} params`, node.frozen ? "frozen" : null,
    node.id === output ? "output" : null].filter(Boolean).join(" · ");
  return {
    id: node.id,
    cellId: node.id,
    kind: "layer",
    type: node.type,
    label: node.id,
    testid: `node-${node.id}`,
    color: categoryColor(e?.category || "unknown"),
    state,
    frozen: !!node.frozen,
    shape,
    meta,
    message,
    aria: `${node.type} ${node.id}, output ${shape}${message ? `, ${message}` : ""}`,
  };
}

function blockData(kind, block, v) {
  const problems = [...(v?.errors || []), ...(v?.warnings || [])].filter((e) => e.component === kind);
  const isError = (v?.errors || []).some((e) => e.component === kind);
  const params = Object.entries(block.params || {}).map(([k, val]) => `${k}=${JSON.stringify(val)}`).join(", ");
  return {
    id: kind,
    cellId: BLOCK_ID(kind),
    kind,
    type: block.type,
    label: kind,
    testid: `block-${kind}`,
    color: categoryColor(kind),
    state: problems.length ? (isError ? "error" : "warning") : "",
    meta: params || "defaults",
    message: problems[0]?.message || "",
    aria: `${kind}: ${block.type}`,
  };
}

// -- set-up ----------------------------------------------------------------------

export function createCanvas({ container, minimap, on }) {
  handlers = on;
  graph = new Graph({
    container,
    autoResize: true,
    // Only cells in (or near) the viewport get DOM: an imported DenseNet's 428 nodes and
    // 600 labelled edges were all laid out and painted before the page answered.
    virtual: true,
    grid: { visible: true, size: 10, type: "dot", args: { color: "#8888aa55", thickness: 1 } },
    panning: { enabled: true, eventTypes: ["leftMouseDown"] },
    mousewheel: { enabled: true, factor: 1.1, minScale: 0.2, maxScale: 2.5 },
    interacting: { edgeMovable: false, arrowheadMovable: false, vertexMovable: false, vertexAddable: false },
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
    showNodeSelectionBox: true, pointerEvents: "none",
  });
  graph.use(selection);
  graph.use(new Snapline({ enabled: true }));
  if (minimap) useMinimap(container, minimap);

  graph.on("edge:connected", ({ edge, isNew }) => {
    if (!isNew) return;
    const src = edge.getSourceCellId();
    const dst = edge.getTargetCellId();
    graph.removeEdge(edge);
    handlers.onConnect?.(cellToId(src), cellToId(dst));
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

/** The node the loss is attached to: the chosen output, else the one the validator found. */
export function outputOf(g, v) {
  return g.output || v?.output || null;
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

function renderCells(g, v) {
  graph.batchUpdate(() => {
    const output = outputOf(g, v);
    const want = new Map();
    for (const n of g.nodes) {
      const arity = entry(n.type)?.arity || { min: 1, max: 1 };
      want.set(n.id, {
        data: nodeData(n, v, output), pos: n.ui, w: NODE_W, h: NODE_H,
        ports: portItems(n.id, arity.max !== 0, true),
      });
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
      const max = entry(n.type)?.arity?.max;
      n.inputs.forEach((ref, i) => {
        // An edge from one output port of a Split/Chunk is {node, port}: drawn from that node.
        const src = typeof ref === "string" ? ref : ref.node;
        const shape = typeof ref === "string" ? v?.nodes?.[src]?.output_shape
          : v?.nodes?.[src]?.output_shapes?.[ref.port] ?? v?.nodes?.[src]?.output_shape;
        const label = `${max !== 1 && n.inputs.length > 1 ? `#${i + 1}  ` : ""}${shape ? fmtShape(shape) : ""}`;
        // The id names both ends: a reused id for a new source left stale edges behind.
        edges.set(`e|${src}|${n.id}|${i}`, { src, dst: n.id, label, data: { dst: n.id, index: i, removable: true } });
      });
    }
    if (g.loss && output && want.has(output)) {
      edges.set(`e|${output}|__loss|0`, { src: output, dst: BLOCK_ID("loss"), label: "", dashed: true, data: { dst: "__loss", index: 0, removable: !!g.output } });
    }
    for (const e of graph.getEdges()) {
      if (!e.id.startsWith("e|")) continue; // an edge the user is drawing right now
      const w = edges.get(e.id);
      if (!w || e.getSourceCellId() !== w.src || e.getTargetCellId() !== w.dst || !want.has(w.src)) graph.removeEdge(e);
    }
    for (const [id, w] of edges) {
      if (!want.has(w.src) || !want.has(w.dst)) continue;
      const existing = graph.getCellById(id);
      const labels = w.label ? [{ attrs: { label: { text: w.label, class: "tc-edge-label" }, body: { class: "tc-edge-label-bg" } } }] : [];
      if (existing) {
        if (JSON.stringify(existing.getLabels()) !== JSON.stringify(labels)) existing.setLabels(labels);
        continue;
      }
      graph.addEdge({
        id,
        source: { cell: w.src, port: "out" },
        target: { cell: w.dst, port: "in" },
        connector: { name: "smooth" },
        data: w.data,
        labels,
        attrs: { line: { class: `tc-line${w.dashed ? " tc-line-loss" : ""}`, stroke: "#888", strokeWidth: 2, targetMarker: "classic", strokeDasharray: w.dashed ? "6 4" : "" } },
        zIndex: 0,
      });
    }
  });
}

function upsertNode(cellId, w) {
  const pos = { x: w.pos?.x ?? 0, y: w.pos?.y ?? 0 };
  const cell = graph.getCellById(cellId);
  if (!cell) {
    graph.addNode({
      id: cellId, shape: "tc-node", x: pos.x, y: pos.y, width: w.w, height: w.h, data: w.data,
      ports: { groups: PORT_GROUPS, items: w.ports }, zIndex: 1,
    });
    return;
  }
  const p = cell.getPosition();
  if (!dragging && (Math.round(p.x) !== pos.x || Math.round(p.y) !== pos.y)) cell.setPosition(pos.x, pos.y);
  if (JSON.stringify(cell.getData()) !== JSON.stringify(w.data)) cell.setData(w.data, { overwrite: true });
}

// -- selection, view ----------------------------------------------------------------

export function selectedIds() {
  const nodes = [];
  const edges = [];
  for (const c of selection.getSelectedCells()) {
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
  selection.reset(graph.getNodes());
}

export const zoomIn = () => graph.zoom(0.15);
export const zoomOut = () => graph.zoom(-0.15);
export const zoomReset = () => graph.zoomTo(1);
export function fit() {
  if (graph.getNodes().length) graph.zoomToFit({ padding: 32, maxScale: 1, minScale: 0.1 });
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
