/**
 * Which block the canvas has open, and the editor actions on blocks: make one from the
 * selection, open one (double-click) and go back (breadcrumb, Escape), the right-click
 * menu, and the "probe" validation that shows shapes inside an open block.
 *
 * The canvas shows `viewGraph()`: the network, or the open block's inside; `edit()`
 * sends an edit there (inside a block: one `inScope` store edit, so undo works the
 * same). main.js gives the page hooks once (`initBlockScope`) and asks this module
 * what to show.
 */

import { validateGraph } from "./api.js";
import { blockNameOf, blockView, instancesOf, isBlockType, probeGraph } from "./blocks.js";
import { askBlockName, renderBreadcrumb, showContextMenu } from "./blocks-view.js";
import { BLOCK_KINDS, findNode, store } from "./graph-state.js";

// The open blocks, outermost first ([] = the network): [{block, instance}].
let scope = [];
let probe = null; // the validation of the open block's inside (shapes for its first use)
let probeSeq = 0;
let madeBlock = null; // {ids, id} of the last "Make block", to select the right cells on undo/redo
let page = null;

/**
 * hooks: toast(msg, level), selection() -> ids, setSelection(ids), validation() -> the
 * network's report, show(view, v, {fit}) redraws canvas and inspector, builtins() -> the
 * built-in definitions, breadcrumb and dialog elements.
 */
export function initBlockScope(hooks) {
  page = hooks;
}

export const openBlock = () => scope.at(-1)?.block ?? null;
export const depth = () => scope.length;

/** What the canvas shows: the network, or the inside of the open block. */
export function viewGraph() {
  const g = store.get();
  while (scope.length && !g.blocks?.[openBlock()]) scope.pop(); // the block went (an undo)
  return openBlock() ? blockView(g, openBlock()) : g;
}

export const shownValidation = () => (openBlock() ? probe : page.validation());

/** A store edit on what the canvas shows (inside the open block: one `inScope` edit). */
export function edit(name, args = {}, opts = {}) {
  const block = openBlock();
  if (!block) return store.apply(name, args, opts);
  return store.apply("inScope", { block, edit: name, args }, { ...opts, reason: opts.reason || name });
}

/** Back to the network, forgetting the open blocks (another graph was opened). */
export function resetScope() {
  scope = [];
  probe = null;
  madeBlock = null;
}

/** Undo of "Make block" brings its layers back selected; redo selects the block again. */
export function selectionAfter(reason, view, selection) {
  if (reason === "undo" && madeBlock?.ids.every((id) => findNode(view, id))) return madeBlock.ids;
  if (reason === "redo" && madeBlock && findNode(view, madeBlock.id)) return [madeBlock.id];
  return selection;
}

/** Ask a name, then move the selected layers into a new block (one undo step). */
export async function makeBlockFromSelection() {
  const ids = page.selection().filter((id) => !BLOCK_KINDS.includes(id));
  if (!ids.length) {
    page.toast("Select the layers to put in a block first", "error");
    return;
  }
  const taken = { ...page.builtins(), ...(store.get().blocks || {}) };
  let n = 1;
  while (taken[`Block${n}`]) n += 1;
  const name = await askBlockName(page.dialog, `Block${n}`);
  if (!name) return;
  try {
    const id = store.apply("makeBlock", { name, ids, scope: openBlock() });
    madeBlock = { ids, id };
    page.setSelection([id]);
    page.toast(`Block ${name}: ${ids.length} layer${ids.length === 1 ? "" : "s"}, now in the palette`);
  } catch (err) {
    page.toast(err.message, "error");
  }
}

/** Open the block that instance `id` (in the canvas's graph) uses. */
export function enterBlock(id) {
  const name = blockNameOf(findNode(viewGraph(), id)?.type);
  if (!name || !store.get().blocks?.[name]) {
    page.toast(name ? `no block named ${name} in this network` : `${id} is not a block`, "error");
    return;
  }
  scope.push({ block: name, instance: id });
  afterScopeChange();
}

/** Go back to level i of the breadcrumb (0: the network). */
export function goToLevel(i) {
  scope = scope.slice(0, i);
  afterScopeChange();
}

function afterScopeChange() {
  probe = null;
  page.show(viewGraph(), shownValidation(), { fit: true });
  page.setSelection([]);
  showBreadcrumb();
  runProbe();
}

export function showBreadcrumb() {
  const path = [store.get().name || "Net", ...scope.map((s) => s.block)];
  renderBreadcrumb(page.breadcrumb, path, goToLevel);
}

/**
 * Validate the open block's inside as an instance of it sees it (the one it was opened
 * from, else its first use in the network), to show shapes there.
 */
export async function runProbe() {
  const block = openBlock();
  if (!block) return;
  const mine = ++probeSeq;
  const g = store.get();
  const via = scope.at(-1).instance;
  const inst = findNode(g, via)?.type === `block:${block}` ? via : instancesOf(g, block)[0];
  const pg = probeGraph(g, block, inst, page.validation());
  let v = null;
  try {
    v = pg ? await validateGraph(pg) : null;
  } catch {
    v = null; // shapes are a help here; the network's own validation still runs
  }
  if (mine !== probeSeq || openBlock() !== block) return;
  probe = v;
  page.show(viewGraph(), probe, {});
}

/** The right-click menu of a node: make a block of the selection, open or expand a block. */
export function contextMenu(id, x, y) {
  if (!page.selection().includes(id)) page.setSelection([id]);
  const node = findNode(viewGraph(), id);
  const layers = page.selection().filter((s) => !BLOCK_KINDS.includes(s));
  const items = [];
  if (layers.length) {
    items.push([`Make block from ${layers.length} layer${layers.length === 1 ? "" : "s"}…`, "menu-make-block", makeBlockFromSelection]);
  }
  if (isBlockType(node?.type)) {
    items.push(["Open block", "menu-open-block", () => enterBlock(id)]);
    const expanded = !!node.ui?.expanded;
    items.push([expanded ? "Collapse" : "Expand in place", "menu-expand", () => edit("setExpanded", { id, expanded: !expanded })]);
  }
  showContextMenu(x, y, items);
}
