/**
 * The editor's graph state: a graph v1 document plus its undo/redo history.
 *
 * Pure data, no DOM: every edit is a function of (graph, args) applied to a copy
 * through `store.apply`, which records the previous document for undo and tells
 * subscribers. The document is exactly graph format v1 (server/graph.py); the
 * editor's own data lives only in `ui` fields (node positions, block positions),
 * so a saved graph round-trips through the server unchanged.
 *
 * Shared with the training panel (static/js/train/), the stable API is:
 *   currentGraph()            -> a deep copy of the graph v1 JSON on the canvas
 *   loadGraph(graph)          -> replace the canvas graph (undoable), e.g. restore a run
 *   onGraphChange(fn)         -> fn(graph, {reason}) after every change; returns unsubscribe
 *   updateGraphFields(fields) -> set top-level fields such as `data` and `training`
 *                                (undoable; null removes the field)
 *   store.apply(edit, args, {coalesce}) -> any edit in `edits` (e.g. "setFields",
 *                                "setParam"); edits with the same `coalesce` key in
 *                                quick succession are one undo step
 * main.js registers setGraphPreparer(fn) so loadGraph() lays out graphs without positions.
 */

import { mapRef, outputList, refNode } from "./refs.js";

export const BLOCK_KINDS = ["loss", "optimizer", "scheduler"];
/**
 * Run settings: what the training view's number boxes show (epochs, seed, device, batch
 * size, validation fraction). They are not canvas edits: undo and redo leave them as the
 * boxes show them, and changing them adds no undo step (apply with `record: false`).
 */
export const RUN_SETTINGS = { training: null, data: ["batch_size", "val_fraction", "shuffle"] };
const HISTORY_LIMIT = 200;
const COALESCE_MS = 1200;

// -- pure helpers --------------------------------------------------------------

export function emptyGraph() {
  return { version: 1, name: "Net", nodes: [], output: null };
}

const clone = (x) => (x === undefined ? undefined : JSON.parse(JSON.stringify(x)));

export function findNode(graph, id) {
  return graph.nodes.find((n) => n.id === id) || null;
}

/** A fresh id like `conv2d_3` that no node in the graph uses. */
export function freshId(graph, type) {
  const base = type.toLowerCase().replace(/[^a-z0-9_]/g, "_") || "node";
  const used = new Set(graph.nodes.map((n) => n.id));
  let i = 1;
  while (used.has(`${base}_${i}`)) i += 1;
  return `${base}_${i}`;
}

/** True when `ancestor` feeds `id`, directly or through other nodes. */
export function dependsOn(graph, id, ancestor) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const seen = new Set();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop();
    if (cur === ancestor) return true;
    if (seen.has(cur)) continue;
    seen.add(cur);
    const node = byId.get(cur);
    if (node) stack.push(...node.inputs.map(refNode));
  }
  return false;
}

/** Why src -> dst may not be connected, or null when it may. */
export function connectionError(graph, src, dst, arity) {
  if (src === dst) return "a layer cannot feed itself";
  if (!findNode(graph, src) || !findNode(graph, dst)) return "unknown node";
  if (dependsOn(graph, src, dst)) return `refused: ${src} → ${dst} would make a cycle`;
  if (arity && arity.max === 0) return `${dst} takes no inputs`;
  return null;
}

/** The sink nodes (no consumers): the natural output when none is chosen. */
export function sinks(graph) {
  const used = new Set(graph.nodes.flatMap((n) => n.inputs.map(refNode)));
  return graph.nodes.filter((n) => !used.has(n.id)).map((n) => n.id);
}

/** Normalise a parsed document into the shape the editor works on. */
export function parseGraph(data) {
  if (typeof data === "string") data = JSON.parse(data);
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new Error("not a graph: expected a JSON object");
  }
  if (data.version !== undefined && data.version !== 1) {
    throw new Error(`unsupported graph version ${data.version} (this editor reads version 1)`);
  }
  if (data.nodes !== undefined && !Array.isArray(data.nodes)) {
    throw new Error("not a graph: `nodes` must be a list");
  }
  const graph = { ...clone(data), version: 1 };
  graph.name = graph.name || "Net";
  const nodesOf = (nodes, where) => (nodes || []).map((n, i) => {
    if (!n || typeof n.id !== "string" || typeof n.type !== "string") {
      throw new Error(`${where}node ${i + 1} needs a string id and type`);
    }
    return { ...n, params: n.params || {}, inputs: n.inputs || [] };
  });
  graph.nodes = nodesOf(graph.nodes, "");
  // A block's nodes may omit `params` and `inputs` too (an imported model's do).
  for (const [name, def] of Object.entries(graph.blocks || {})) {
    if (def && typeof def === "object" && Array.isArray(def.nodes)) {
      def.nodes = nodesOf(def.nodes, `block ${name}: `);
    }
  }
  if (graph.output === undefined) graph.output = null;
  return graph;
}

/** The graph v1 JSON to save or send: a copy, with empty optional fields dropped. */
export function serializeGraph(graph) {
  const out = clone(graph);
  for (const key of [...BLOCK_KINDS, "data", "training", "ui", "blocks"]) {
    if (out[key] === null || out[key] === undefined) delete out[key];
  }
  for (const n of out.nodes) if (n.ui === null || n.ui === undefined) delete n.ui;
  return out;
}

/** True when some node lacks a position, so the canvas should lay the graph out. */
export function needsLayout(graph) {
  return graph.nodes.some((n) => !n.ui || typeof n.ui.x !== "number" || typeof n.ui.y !== "number");
}

/** Remove the outputs `gone(ref)` names: a list keeps the rest, a single output becomes null. */
function dropOutputs(g, gone) {
  const list = outputList(g.output).filter((r) => !gone(r));
  if (Array.isArray(g.output)) g.output = list.length ? list : null;
  else if (!list.length) g.output = null;
}

// -- edits (each takes a graph copy and changes it in place) ---------------------

export const edits = {
  addNode(g, { type, params = {}, position, id }) {
    const nodeId = id && !findNode(g, id) ? id : freshId(g, type);
    g.nodes.push({ id: nodeId, type, params: clone(params), inputs: [], ui: { ...position } });
    return nodeId;
  },

  removeCells(g, { nodes = [], edges = [], blocks = [] }) {
    // edges: [{dst, index}], removed from the highest index down so indices stay valid
    const sorted = [...edges].sort((a, b) => b.index - a.index);
    for (const { dst, index } of sorted) {
      if (dst === "__loss") g.output = null;
      else findNode(g, dst)?.inputs.splice(index, 1);
    }
    const gone = new Set(nodes);
    g.nodes = g.nodes.filter((n) => !gone.has(n.id));
    for (const n of g.nodes) n.inputs = n.inputs.filter((i) => !gone.has(refNode(i)));
    dropOutputs(g, (ref) => gone.has(refNode(ref)));
    for (const kind of blocks) delete g[kind];
  },

  /** `src` is a reference: a node id, or `{node, port}` for one output of several. */
  connect(g, { src, dst, max }) {
    if (dst === "__loss") {
      g.output = src;
      return;
    }
    const node = findNode(g, dst);
    if (max === 1) node.inputs = [src];
    else if (max === null || max === undefined || node.inputs.length < max) node.inputs.push(src);
    else node.inputs[node.inputs.length - 1] = src;
  },

  setInputs(g, { id, inputs }) {
    findNode(g, id).inputs = [...inputs];
  },

  setParam(g, { id, name, value }) {
    const target = BLOCK_KINDS.includes(id) ? g[id] : findNode(g, id);
    if (!target) return;
    target.params = target.params || {};
    if (value === undefined) delete target.params[name];
    else target.params[name] = value;
  },

  renameNode(g, { id, to }) {
    if (findNode(g, to)) throw new Error(`a node named ${to} already exists`);
    const node = findNode(g, id);
    node.id = to;
    const rename = (i) => (i === id ? to : i);
    for (const n of g.nodes) n.inputs = n.inputs.map((r) => mapRef(r, rename));
    if (Array.isArray(g.output)) g.output = g.output.map((r) => mapRef(r, rename));
    else if (g.output !== null && g.output !== undefined) g.output = mapRef(g.output, rename);
    // The declared input order (of the graph, or of a block being edited) follows the name.
    if (Array.isArray(g.inputs)) g.inputs = g.inputs.map(rename);
  },

  move(g, { positions }) {
    for (const [id, pos] of Object.entries(positions)) {
      const target = BLOCK_KINDS.includes(id) ? g[id] : findNode(g, id);
      if (target) target.ui = { ...(target.ui || {}), x: Math.round(pos.x), y: Math.round(pos.y) };
    }
  },

  setOutput(g, { id }) {
    g.output = id;
  },

  /** The layer's attribute path in the module (`layer1.0`); empty: derived from the id. */
  setName(g, { id, name }) {
    const node = findNode(g, id);
    if (!node) return;
    if (name) node.name = name;
    else delete node.name;
  },

  /** Keep a layer's start weights while training (graph format: the node's `frozen`). */
  setFrozen(g, { id, frozen }) {
    const node = findNode(g, id);
    if (!node) return;
    if (frozen) node.frozen = true;
    else delete node.frozen;
  },

  /** Start from uploaded weights (graph format: `init.weights`), or from fresh ones. */
  setStartWeights(g, { path }) {
    if (path) g.init = { ...(g.init || {}), weights: path };
    else delete g.init;
  },

  setBlock(g, { kind, type, params = {}, position }) {
    const old = g[kind];
    const ui = position ? { ...position } : old?.ui;
    g[kind] = { type, params: old?.type === type ? old.params : clone(params), ...(ui ? { ui } : {}) };
  },

  setFields(g, { fields }) {
    for (const [key, value] of Object.entries(fields)) {
      if (key === "version" || key === "nodes") throw new Error(`${key} cannot be set this way`);
      if (value === null || value === undefined) delete g[key];
      else g[key] = clone(value);
    }
  },

  replace(g, { graph }) {
    for (const key of Object.keys(g)) delete g[key];
    Object.assign(g, parseGraph(graph));
  },

  /** Paste a fragment from `copyCells`; returns the new ids. */
  paste(g, { fragment, offset = 40 }) {
    const map = new Map();
    for (const n of fragment.nodes) map.set(n.id, edits.addNode(g, { type: n.type, params: n.params, position: { x: 0, y: 0 }, id: n.id }));
    for (const n of fragment.nodes) {
      const node = findNode(g, map.get(n.id));
      node.inputs = n.inputs.filter((i) => map.has(refNode(i))).map((i) => mapRef(i, (id) => map.get(id)));
      node.ui = { x: (n.ui?.x ?? 0) + offset, y: (n.ui?.y ?? 0) + offset };
    }
    return [...map.values()];
  },
};

/** A self-contained copy of some nodes, keeping only the edges between them. */
export function copyCells(graph, ids) {
  const keep = new Set(ids);
  const nodes = graph.nodes.filter((n) => keep.has(n.id)).map((n) => ({
    ...clone(n),
    inputs: n.inputs.filter((i) => keep.has(refNode(i))),
  }));
  return { nodes };
}

// -- the store ---------------------------------------------------------------------

export class GraphStore {
  constructor(graph = emptyGraph()) {
    this.graph = parseGraph(graph);
    this.undoStack = [];
    this.redoStack = [];
    this.listeners = new Set();
    this.lastKey = null;
    this.lastTime = 0;
  }

  get() {
    return this.graph;
  }

  /**
   * Run `edits[name]` on a copy; on success keep it, record undo, notify.
   * `coalesce` merges quick repeats of the same edit (typing in one field) into one undo step.
   */
  apply(name, args = {}, { coalesce = null, reason = name, record = true } = {}) {
    const before = JSON.stringify(this.graph);
    const next = JSON.parse(before);
    const result = edits[name](next, args);
    const after = JSON.stringify(next);
    if (after === before) return result;
    const now = Date.now();
    const merge = coalesce && coalesce === this.lastKey && now - this.lastTime < COALESCE_MS;
    if (record && !merge) {
      this.undoStack.push(before);
      if (this.undoStack.length > HISTORY_LIMIT) this.undoStack.shift();
    }
    if (record) this.redoStack = [];
    this.lastKey = coalesce;
    this.lastTime = now;
    this.graph = next;
    this.emit(reason);
    return result;
  }

  canUndo() {
    return this.undoStack.length > 0;
  }

  canRedo() {
    return this.redoStack.length > 0;
  }

  undo() {
    return this.travel(this.undoStack, this.redoStack, "undo");
  }

  redo() {
    return this.travel(this.redoStack, this.undoStack, "redo");
  }

  /** Undo or redo: take the graph from one stack, keeping the current one on the other. */
  travel(from, to, reason) {
    if (!from.length) return false;
    to.push(JSON.stringify(this.graph));
    const next = JSON.parse(from.pop());
    keepRunSettings(this.graph, next);
    this.graph = next;
    this.lastKey = null;
    this.emit(reason);
    return true;
  }

  /** Start over with a document and an empty history (opening a project). */
  reset(graph) {
    this.graph = parseGraph(graph);
    this.undoStack = [];
    this.redoStack = [];
    this.lastKey = null;
    this.emit("reset");
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(reason) {
    for (const fn of this.listeners) {
      try {
        fn(this.graph, { reason });
      } catch (err) {
        console.error("graph listener failed", err);
      }
    }
  }
}

/** Copy the run settings of `current` onto `next` (an undo or redo target). */
function keepRunSettings(current, next) {
  for (const [field, keys] of Object.entries(RUN_SETTINGS)) {
    if (keys === null) {
      if (current[field] === undefined) delete next[field];
      else next[field] = clone(current[field]);
    } else if (next[field] && current[field]) {
      for (const k of keys) {
        if (current[field][k] === undefined) delete next[field][k];
        else next[field][k] = clone(current[field][k]);
      }
    }
  }
}

// -- the page's one store and the API shared with the training panel --------------

export const store = new GraphStore();

export function currentGraph() {
  return serializeGraph(store.get());
}

// The page gives graphs without positions a layout before they reach the canvas.
let prepare = (graph) => graph;
export function setGraphPreparer(fn) {
  prepare = fn;
}

export function loadGraph(graph) {
  store.apply("replace", { graph: prepare(graph) }, { reason: "load" });
}

export function onGraphChange(fn) {
  return store.subscribe((graph, info) => fn(serializeGraph(graph), info));
}

export function updateGraphFields(fields) {
  store.apply("setFields", { fields }, { reason: "fields" });
}
