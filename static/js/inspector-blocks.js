/**
 * The inspector's parts for blocks: the buttons of a block instance (open it, expand it
 * in place), the exposed params of an open block, and the per-port shapes of a node
 * with several outputs (NodeReport.output_shapes).
 */

import { fmtCount, fmtShape } from "./catalog.js";
import { button, span, textInput } from "./form-parts.js";

/**
 * A block's exposed params: each has a default, each use may set its own value, and a
 * layer inside reads one as `$name` in any of its fields.
 */
export function blockParamsForm(params, actions) {
  const box = document.createElement("div");
  box.className = "field";
  box.dataset.testid = "block-params";
  const label = document.createElement("label");
  label.textContent = "Params of the block (a layer inside uses one as $name)";
  const list = document.createElement("ul");
  list.className = "tc-inputs";
  // Not `commit`: the form is rebuilt to list the new params.
  const save = (next) => actions.setBlockFields({ params: Object.keys(next).length ? next : null });
  for (const [name, p] of Object.entries(params)) {
    const li = document.createElement("li");
    li.append(span(`$${name} = ${JSON.stringify(p?.default)}`));
    const cut = button("Remove", () => {
      const next = { ...params };
      delete next[name];
      save(next);
    }, "small");
    cut.dataset.testid = `block-param-${name}-remove`;
    li.append(cut);
    list.append(li);
  }
  const name = textInput("block-param-name", "");
  name.placeholder = "name";
  const value = textInput("block-param-default", "");
  value.placeholder = "default, e.g. 64";
  const msg = document.createElement("div");
  msg.className = "field-msg";
  const add = button("Add", () => {
    const n = name.value.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n) || !value.value.trim()) {
      msg.textContent = "A name (letters, digits and _) and a default value";
      return;
    }
    let d;
    try {
      d = JSON.parse(value.value.trim()); // 64, 0.5, true, [3, 3]
    } catch {
      d = value.value.trim(); // anything else is text
    }
    save({ ...params, [n]: { default: d } });
  }, "small");
  add.dataset.testid = "block-param-add";
  const line = document.createElement("div");
  line.className = "field-row";
  line.append(name, value, add);
  box.append(label, list, line, msg);
  return box;
}

/** Open the block an instance uses, or show its inside in place on the canvas. */
export function blockButtons(node, actions) {
  const box = document.createElement("div");
  box.className = "field-row";
  const open = button("Open block", () => actions.openBlock(node.id), "small");
  open.dataset.testid = "block-open";
  open.title = "Edit the block's inside (double-click the node); every use of the block changes";
  const expanded = !!node.ui?.expanded;
  const fold = button(expanded ? "Collapse" : "Expand in place", () => actions.setExpanded(node.id, !expanded), "small");
  fold.dataset.testid = "block-expand";
  box.append(open, fold);
  return box;
}

/** "Output (N, 16) · 2,080 params", or one line per output port (NodeReport.output_shapes). */
export function shapeLines(nv) {
  if (!nv) return [];
  const count = `${fmtCount(nv.params)} params`;
  if (!nv.output_shapes?.length) return [`Output ${fmtShape(nv.output_shape)} · ${count}`];
  const list = document.createElement("ol");
  list.className = "tc-ports";
  list.start = 0;
  nv.output_shapes.forEach((shape, k) => {
    const li = document.createElement("li");
    li.dataset.testid = `inspector-port-${k}`;
    li.textContent = `port ${k}: ${fmtShape(shape)}`;
    list.append(li);
  });
  return [`${nv.output_shapes.length} outputs · ${count}`, list];
}
