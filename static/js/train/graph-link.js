/**
 * The panel's only door into the editor's graph: read it, and set the parts
 * this panel owns (`data`, `training`, and the `Input` shape a dataset
 * dictates) through the graph-state module, so undo, autosave and live
 * validation see the change like any other edit.
 *
 * graph-state.js is loaded dynamically so the panel still works (on a
 * private graph) if the editor is absent, e.g. in a stripped-down page.
 */

import { refNode } from "../refs.js";

let state = null;
let fallback = {version: 1, name: "Net", nodes: [], output: null};
const listeners = [];

export async function connect() {
  try {
    state = await import("../graph-state.js");
    state.onGraphChange?.((g) => listeners.forEach((fn) => fn(g ?? currentGraph())));
  } catch (err) {
    console.warn("training panel: graph-state.js unavailable, using a private graph", err);
    state = null;
  }
}

export function currentGraph() {
  const g = state?.currentGraph ? state.currentGraph() : fallback;
  return structuredClone(g);
}

export function onGraphChange(fn) { listeners.push(fn); }

/** The private graph changed (no editor): tell the listeners, as graph-state would. */
const notifyPrivate = () => listeners.forEach((fn) => fn(currentGraph()));

/** Set top-level fields (`data`, `training`) as one undoable edit (`record: false`: no undo step). */
function setFields(fields, coalesce, record = true) {
  if (state?.store?.apply) state.store.apply("setFields", {fields}, {coalesce, reason: "fields", record});
  else if (state?.updateGraphFields) state.updateGraphFields(fields);
  else { fallback = {...fallback, ...structuredClone(fields)}; notifyPrivate(); }
}

/** Set one node param, merged into the same undo step as `setFields` with the same key. */
function setNodeParam(id, name, value, coalesce) {
  if (state?.store?.apply) state.store.apply("setParam", {id, name, value}, {coalesce, reason: "fields"});
  else if (state?.loadGraph) {
    const g = currentGraph();
    const node = g.nodes.find((n) => n.id === id);
    if (node) { node.params = {...(node.params || {}), [name]: value}; state.loadGraph(g); }
  } else {
    const node = fallback.nodes.find((n) => n.id === id);
    if (node) { node.params = {...(node.params || {}), [name]: value}; notifyPrivate(); }
  }
}

/** Put a learning rate into the optimizer block (Adam when the graph has none yet). */
export function applyLearningRate(lr) {
  const optimizer = currentGraph().optimizer || {type: "Adam", params: {}};
  setFields({optimizer: {...optimizer, params: {...(optimizer.params || {}), lr}}}, null);
}

/** Put a whole graph (a past run's) on the canvas. */
export function restoreGraph(graph) {
  if (state?.loadGraph) state.loadGraph(structuredClone(graph));
  else { fallback = structuredClone(graph); notifyPrivate(); }
}

export const inputNodes = (g) => (g.nodes || []).filter((n) => n.type === "Input");

/** The node the model returns: `output`, else the only node nothing consumes. */
export function outputNode(g) {
  const nodes = g.nodes || [];
  // The loss reads the first output of a list (a `{node, port}` reference names its node).
  const out = Array.isArray(g.output) ? g.output[g.loss?.output ?? 0] : g.output;
  if (out) return nodes.find((n) => n.id === refNode(out)) || null;
  const consumed = new Set(nodes.flatMap((n) => (n.inputs || []).map(refNode)));
  const sinks = nodes.filter((n) => !consumed.has(n.id) && n.type !== "Input");
  return sinks.length === 1 ? sinks[0] : null;
}

/**
 * Choose a dataset entry (see `listDatasets` in ../api.js): set `data.dataset`
 * and `data.params`, and make every Input match the sample shape. One undo
 * step for all of it, so undo puts the previous dataset and shape back together.
 */
export function useDataset(entry, defaults = {}) {
  const g = currentGraph();
  const key = `train-dataset-${Date.now()}`;
  const same = g.data?.dataset === entry.dataset
    && JSON.stringify(g.data?.params || {}) === JSON.stringify(entry.params || {});
  setFields({data: {batch_size: 64, val_fraction: 0.2, shuffle: true, ...defaults, ...(g.data || {}),
    dataset: entry.dataset, params: same ? (g.data.params || {}) : structuredClone(entry.params || {})}}, key);
  if (Array.isArray(entry.input_shape)) {
    for (const node of inputNodes(g)) setNodeParam(node.id, "shape", [...entry.input_shape], key);
  }
}

/** Merge control values into `data` (batch_size, val_fraction) and `training` (epochs, seed, device). */
export function setRunConfig({data = {}, training = {}}) {
  const g = currentGraph();
  const fields = {training: {...(g.training || {}), ...training}};
  if (g.data) fields.data = {...g.data, ...data};
  // Run settings are what their boxes show: not steps of the canvas's undo history.
  setFields(fields, null, false);
}

/**
 * What the model's last layer should emit for this dataset and loss (the
 * graph's loss as the catalogue lists it). Binary sets want one logit, unless
 * the loss takes class targets, which wants one per class.
 */
export function expectedWidth(info, lossEntry) {
  if (!info) return null;
  if (info.task === "binary" && lossEntry?.target === "class") return info.num_classes || 2;
  return info.output_width;
}
