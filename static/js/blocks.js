/**
 * Blocks in the editor: named sub-graphs kept in the graph's `blocks` section and used
 * by nodes of type `block:<name>` (see docs/graph-format.md and BLOCKS in the spec).
 *
 * Pure functions and store edits, no DOM: making a block from a selection, adding an
 * instance (copying a built-in definition into the graph the first time), editing a
 * block's inside as if it were a graph (`inScope`), the palette entry a block stands
 * for (inputs, output ports, exposed params as a JSON Schema) and the probe graph that
 * lets the server show shapes inside an open block. The edits register themselves in
 * graph-state's `edits`, so each is one undo step like any other.
 */

import { entry } from "./catalog.js";
import { edits, findNode, freshId } from "./graph-state.js";
import { makeRef, outputList, refKey, refNode, refPort } from "./refs.js";

export const BLOCK_PREFIX = "block:";
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const isBlockType = (type) => typeof type === "string" && type.startsWith(BLOCK_PREFIX);
export const blockNameOf = (type) => (isBlockType(type) ? type.slice(BLOCK_PREFIX.length) : null);
const clone = (x) => JSON.parse(JSON.stringify(x));

/** The Input node ids of a block, in forward() order. */
export function blockInputs(def) {
  if (Array.isArray(def?.inputs)) return def.inputs;
  return (def?.nodes || []).filter((n) => n.type === "Input").map((n) => n.id);
}

/** The block's outputs as references; with no `output`, its one sink (like a graph). */
export function blockOutputs(def) {
  const list = outputList(def?.output);
  if (list.length) return list;
  const used = new Set((def?.nodes || []).flatMap((n) => (n.inputs || []).map(refNode)));
  const sinks = (def?.nodes || []).filter((n) => !used.has(n.id));
  return sinks.length === 1 ? [sinks[0].id] : [];
}

/** A JSON Schema for a block's exposed params, typed by their defaults (for the inspector). */
function paramsSchema(def) {
  const properties = {};
  for (const [name, p] of Object.entries(def.params || {})) {
    const d = p?.default;
    const type = typeof d === "boolean" ? "boolean" : Number.isInteger(d) ? "integer"
      : typeof d === "number" ? "number" : Array.isArray(d) ? "array" : "string";
    properties[name] = { type, default: d, description: p?.description || "" };
    if (type === "array") properties[name].items = { type: "integer" };
  }
  return { type: "object", properties, required: [] };
}

/**
 * What the canvas, palette and inspector need to know about a node type: the catalogue
 * entry, or for `block:<name>` one built from the graph's definition (null if missing).
 */
export function nodeEntry(graph, type) {
  const e = entry(type);
  if (e || !isBlockType(type)) return e;
  const name = blockNameOf(type);
  const def = graph?.blocks?.[name];
  if (!def) return null;
  const n = blockInputs(def).length;
  const outs = blockOutputs(def);
  return {
    type, kind: "layer", category: "block", block: name,
    description: def.description || `Block ${name}: ${(def.nodes || []).length} nodes`,
    arity: { min: n, max: n },
    outputs: outs.length > 1 ? outs.map((r) => (refPort(r) ? `${refNode(r)}.${refPort(r)}` : refNode(r))) : undefined,
    params: paramsSchema(def),
  };
}

/**
 * How many output ports a node shows: the report's per-port shapes when known, else the
 * entry's named outputs, else (numbered ports counted from params, e.g. Split) at least
 * two and enough for every port an edge already reads. One for ordinary layers.
 */
export function portCount(graph, node, report) {
  if (report?.output_shapes?.length) return report.output_shapes.length;
  const e = nodeEntry(graph, node.type);
  if (!e?.outputs) return 1;
  if (e.outputs.length) return e.outputs.length;
  let used = -1;
  const refs = [...graph.nodes.flatMap((n) => n.inputs), ...outputList(graph.output)];
  for (const r of refs) if (refNode(r) === node.id) used = Math.max(used, refPort(r));
  return Math.max(2, used + 1);
}

// -- edits -----------------------------------------------------------------------------

/** Outside nodes that lie both upstream and downstream of the selection (a block would loop). */
function between(g, picked) {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const consumers = new Map();
  for (const n of g.nodes) for (const r of n.inputs) {
    if (!consumers.has(refNode(r))) consumers.set(refNode(r), []);
    consumers.get(refNode(r)).push(n.id);
  }
  const walk = (next) => {
    const seen = new Set();
    const stack = [...picked].flatMap(next);
    while (stack.length) {
      const id = stack.pop();
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...next(id));
    }
    return seen;
  };
  const up = walk((id) => (byId.get(id)?.inputs || []).map(refNode));
  const down = walk((id) => consumers.get(id) || []);
  return [...up].filter((id) => down.has(id) && !picked.has(id));
}

/** Whether block `name` uses block `target`, directly or through other blocks. */
export function usesBlock(g, name, target, seen = new Set()) {
  if (seen.has(name)) return false;
  seen.add(name);
  for (const n of g.blocks?.[name]?.nodes || []) {
    const inner = blockNameOf(n.type);
    if (inner && (inner === target || usesBlock(g, inner, target, seen))) return true;
  }
  return false;
}

/** The graph itself, or the inside of block `scope` (the part the canvas shows). */
function scoped(g, scope) {
  if (!scope) return g;
  if (!g.blocks?.[scope]) throw new Error(`no block named ${scope}`);
  return g.blocks[scope];
}

/**
 * Move the nodes `ids` (of the graph, or of the open block `scope`) into
 * `g.blocks[name]` and put one `block:<name>` node in their place: the selection's
 * incoming edges become the block's Input nodes (in the order they are first read), the
 * references leaving it its outputs (several -> numbered ports). Returns the instance's
 * id; throws an Error saying why when it cannot be done.
 */
export function makeBlock(root, { name, ids, scope = null }) {
  if (!NAME_RE.test(name || "")) {
    throw new Error("a block name starts with a letter or _ and has only letters, digits and _ (at most 64)");
  }
  if (root.blocks?.[name]) throw new Error(`a block named ${name} already exists`);
  const g = scoped(root, scope);
  const picked = new Set(ids.filter((id) => findNode(g, id)));
  if (!picked.size) throw new Error("select the layers to put in the block first");
  const inner = g.nodes.filter((n) => picked.has(n.id));
  if (inner.some((n) => n.type === "Input")) {
    throw new Error("Input nodes stay outside a block: select the layers after them");
  }
  const gap = between(g, picked);
  if (gap.length) throw new Error(`select ${gap.join(", ")} too: it lies between the selected layers`);
  const outside = g.nodes.filter((n) => !picked.has(n.id));
  const sharer = [...inner.filter((n) => n.shares && !picked.has(n.shares)),
    ...outside.filter((n) => n.shares && picked.has(n.shares))][0];
  if (sharer) throw new Error(`${sharer.id} shares weights across the block's edge: select both or neither`);

  // Inputs: one Input node per distinct reference read from outside.
  const ext = new Map();
  for (const n of inner) for (const r of n.inputs) {
    if (!picked.has(refNode(r)) && !ext.has(refKey(r))) ext.set(refKey(r), { ref: r });
  }
  const taken = new Set(picked);
  [...ext.values()].forEach((x, i) => {
    let id = ext.size === 1 ? "x" : `x${i + 1}`;
    while (taken.has(id)) id = `_${id}`;
    taken.add(id);
    x.id = id;
  });
  // Outputs: every inner reference read outside (or returned), then inner sinks.
  const outs = new Map();
  const note = (r) => {
    if (picked.has(refNode(r)) && !outs.has(refKey(r))) outs.set(refKey(r), r);
  };
  for (const n of outside) n.inputs.forEach(note);
  outputList(g.output).forEach(note);
  const read = new Set(g.nodes.flatMap((n) => n.inputs.map(refNode)));
  for (const n of inner) if (!read.has(n.id)) note(n.id);
  const outRefs = [...outs.values()];

  const xs = inner.map((n) => n.ui?.x ?? 0);
  const ys = inner.map((n) => n.ui?.y ?? 0);
  const box = { x: Math.min(...xs), y: Math.min(...ys) };
  const inputNodes = [...ext.values()].map((x, i) => ({
    id: x.id, type: "Input", params: {}, inputs: [], ui: { x: box.x + 230 * i, y: box.y - 130 },
  }));
  root.blocks = { ...(root.blocks || {}) };
  const lib = root.blocks;
  lib[name] = {
    nodes: [...inputNodes, ...inner.map((n) => ({
      ...clone(n),
      inputs: n.inputs.map((r) => (picked.has(refNode(r)) ? r : ext.get(refKey(r)).id)),
    }))],
    inputs: inputNodes.map((n) => n.id),
    output: outRefs.length === 1 ? outRefs[0] : outRefs,
  };

  const id = freshId(g, name);
  const instance = {
    id, type: `${BLOCK_PREFIX}${name}`, params: {}, inputs: [...ext.values()].map((x) => x.ref), ui: box,
  };
  const portOf = new Map(outRefs.map((r, i) => [refKey(r), outRefs.length === 1 ? 0 : i]));
  const rewire = (r) => (picked.has(refNode(r)) ? makeRef(id, portOf.get(refKey(r))) : r);
  for (const n of outside) n.inputs = n.inputs.map(rewire);
  if (Array.isArray(g.output)) g.output = g.output.map(rewire);
  else if (g.output !== null && g.output !== undefined) g.output = rewire(g.output);
  const at = g.nodes.findIndex((n) => picked.has(n.id));
  g.nodes = [...g.nodes.slice(0, at).filter((n) => !picked.has(n.id)), instance,
    ...g.nodes.slice(at).filter((n) => !picked.has(n.id))];
  return id;
}

/**
 * A new instance of block `name` at `position` (its own weights), in the graph or in the
 * open block `scope`. `def` is copied into the graph's library when the graph has no
 * block of that name yet (a built-in one).
 */
export function addBlockInstance(root, { name, def = null, position, params = {}, scope = null }) {
  if (!root.blocks?.[name]) {
    if (!def) throw new Error(`no block named ${name}`);
    root.blocks = { ...(root.blocks || {}), [name]: clone(def) };
  }
  if (scope && (scope === name || usesBlock(root, name, scope))) {
    throw new Error(`${name} cannot go inside ${scope}: a block cannot contain itself`);
  }
  const g = scoped(root, scope);
  return edits.addNode(g, { type: `${BLOCK_PREFIX}${name}`, params, position, id: freshId(g, name) });
}

/**
 * Run edit `edit` on block `block`'s inside, which has the shape of a graph (`nodes`,
 * `output`): the canvas edits an open block with the same edits as the network. The
 * block's declared `inputs` follow its Input nodes (removed ones leave, new ones join).
 */
export function inScope(g, { block, edit, args }) {
  const def = g.blocks?.[block];
  if (!def) throw new Error(`no block named ${block}`);
  const result = edits[edit](def, args);
  if (Array.isArray(def.inputs)) {
    const present = def.nodes.filter((n) => n.type === "Input").map((n) => n.id);
    def.inputs = [...def.inputs.filter((id) => present.includes(id)), ...present.filter((id) => !def.inputs.includes(id))];
  }
  if (def.output === null || def.output === undefined) delete def.output;
  return result;
}

/** Show an instance's inside in place (read-only), or fold it back to one node. */
export function setExpanded(g, { id, expanded }) {
  const node = findNode(g, id);
  if (!node) return;
  node.ui = { ...(node.ui || {}) };
  if (expanded) node.ui.expanded = true;
  else delete node.ui.expanded;
}

/** Drop block `name` from the graph's library; refused while a node still uses it. */
export function removeBlockDef(g, { name }) {
  const users = [...g.nodes.map((n) => [null, n]),
    ...Object.entries(g.blocks || {}).flatMap(([b, def]) => (def.nodes || []).map((n) => [b, n]))]
    .filter(([, n]) => n.type === `${BLOCK_PREFIX}${name}`);
  if (users.length) {
    const [where, n] = users[0];
    throw new Error(`${name} is still used by ${n.id}${where ? ` in block ${where}` : ""}: delete its uses first`);
  }
  if (!g.blocks?.[name]) return;
  delete g.blocks[name];
  if (!Object.keys(g.blocks).length) delete g.blocks;
}

Object.assign(edits, { makeBlock, addBlockInstance, inScope, setExpanded, removeBlockDef });

// -- a block's inside as a graph ---------------------------------------------------------

/** The graph the canvas draws while block `name` is open. */
export function blockView(g, name) {
  const def = g.blocks?.[name];
  if (!def) return null;
  // `inBlock` tells the inspector this is a block's inside (it is never saved).
  return {
    version: 1, name, nodes: def.nodes || [], output: def.output ?? null, blocks: g.blocks,
    inBlock: true, params: def.params || {},
  };
}

/**
 * A graph the server can validate to show shapes inside an open block: the block's nodes
 * with each Input given the shape (and dtype) that `instance` receives, and every "$param"
 * replaced by the instance's value or the default. Null when the shapes are not known.
 */
export function probeGraph(g, name, instanceId, report) {
  const def = g.blocks?.[name];
  const inst = instanceId && findNode(g, instanceId);
  if (!def || !inst || inst.type !== `${BLOCK_PREFIX}${name}`) return null;
  const values = {};
  for (const [k, p] of Object.entries(def.params || {})) values[k] = inst.params?.[k] ?? p?.default;
  const fill = (v) => (typeof v === "string" && v.startsWith("$") && v.slice(1) in values ? values[v.slice(1)] : v);
  const ins = blockInputs(def);
  const nodes = clone(def.nodes).map((n) => ({ ...n, params: Object.fromEntries(Object.entries(n.params || {}).map(([k, v]) => [k, fill(v)])) }));
  for (const n of nodes) {
    const i = ins.indexOf(n.id);
    if (n.type !== "Input" || i < 0 || !inst.inputs[i]) continue;
    const src = inst.inputs[i];
    const r = report?.nodes?.[refNode(src)];
    const shape = r?.output_shapes?.[refPort(src)] ?? r?.output_shape;
    if (!shape) return null;
    const srcNode = findNode(g, refNode(src));
    n.params = { ...n.params, shape };
    if (srcNode?.type === "Input" && srcNode.params?.dtype) {
      n.params.dtype = srcNode.params.dtype;
      if (srcNode.params.vocab !== undefined) n.params.vocab = srcNode.params.vocab;
    }
  }
  return { version: 1, name, nodes, inputs: ins, output: def.output ?? null, blocks: g.blocks };
}

/** Instances of block `name` in the graph (the first one gives an opened block its shapes). */
export const instancesOf = (g, name) => g.nodes.filter((n) => n.type === `${BLOCK_PREFIX}${name}`).map((n) => n.id);
