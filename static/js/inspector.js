/**
 * The inspector: a form for the selected node or block, generated from its JSON Schema.
 *
 * Ints, floats, enums, booleans, int-or-pair (`x-form: pair`), int-or-list (`x-form: ints`),
 * lists of sizes and nullable values each get a widget; sizes the validator infers (`x-inferred`)
 * show the inferred value read-only until the user overrides them. Entries are
 * checked against the schema as they are typed (marked at once) and the server's
 * errors for a param are shown under its field after each validation.
 */

import { blockNameOf, nodeEntry, portCount } from "./blocks.js";
import { entry, getCatalog } from "./catalog.js";
import { button, heading, row, span, textInput } from "./form-parts.js";
import { BLOCK_KINDS, findNode } from "./graph-state.js";
import { blockButtons, blockParamsForm, shapeLines } from "./inspector-blocks.js";
import { makeRef, refKey, refLabel } from "./refs.js";

let root = null;
let actions = {};
let shown = null; // {key, sel} of the form on screen
let ownEdit = false;

export function createInspector(el, on) {
  root = el;
  actions = on;
}

/** Redraw for the selection; keeps the form (and focus) when the change came from it. */
export function renderInspector(graph, sel, v, { force = false } = {}) {
  const target = sel ? targetOf(graph, sel) : null;
  const key = sel && target ? `${sel}|${target.type}` : `graph|${graph.name}`;
  if (ownEdit && !force && shown?.key === key) {
    ownEdit = false;
    updateStatus(graph, sel, v);
    return;
  }
  ownEdit = false;
  shown = { key, sel };
  root.replaceChildren();
  if (!sel || !target) renderGraphForm(graph, v);
  else if (BLOCK_KINDS.includes(sel)) renderBlockForm(graph, sel, target);
  else renderNodeForm(graph, target, v);
  updateStatus(graph, sel, v);
}

const targetOf = (graph, sel) => (BLOCK_KINDS.includes(sel) ? graph[sel] : findNode(graph, sel));

/** The next render comes from the form itself: keep the form, refresh only its messages. */
export function markOwnEdit() {
  ownEdit = true;
}

function commit(fn) {
  ownEdit = true;
  fn();
}

// -- the three forms ------------------------------------------------------------------

function renderGraphForm(graph) {
  if (graph.inBlock) {
    root.append(heading(`Block ${graph.name}`, "Its inside: every use of the block changes with it. "
      + "Shapes are those of its first use. Back to the network: the breadcrumb, or Escape."));
    root.append(blockParamsForm(graph.params || {}, actions));
    return;
  }
  root.append(heading("Network", "Select a layer to edit it."));
  const input = textInput("graph-name", graph.name);
  input.addEventListener("change", () => commit(() => actions.setFields({ name: input.value.trim() || "Net" })));
  root.append(row("Class name", input, "The name of the exported nn.Module"));
  const counts = document.createElement("p");
  counts.className = "hint";
  counts.textContent = `${graph.nodes.length} layers. Drag from the palette, connect an output port (bottom) to an input port (top).`;
  root.append(counts);
}

function renderNodeForm(graph, node, v) {
  const e = nodeEntry(graph, node.type);
  const block = blockNameOf(node.type);
  const unknown = block ? `No block named ${block} in this network.` : "Unknown type: not in the catalogue.";
  root.append(heading(block ? `▣ ${block}` : node.type, e?.description || unknown));
  if (block && e) root.append(blockButtons(node, actions));
  const id = textInput("node-id", node.id);
  id.addEventListener("change", () => {
    const to = id.value.trim();
    if (to && to !== node.id) actions.rename(node.id, to);
  });
  root.append(row("Id", id, "Unique name; becomes the attribute in the exported module"));
  if (e && node.type !== "Input") {
    const name = textInput("node-name", node.name || "");
    name.placeholder = "from the id";
    name.addEventListener("change", () => commit(() => actions.setName(node.id, name.value.trim())));
    root.append(row("Module name", name, "Attribute path in the module, e.g. layer1.0: dotted names nest "
      + "in nn.Sequential, so state_dict keys can match another model's (empty: from the id)"));
  }

  const info = document.createElement("div");
  info.className = "tc-inspector-shape";
  info.dataset.testid = "inspector-shape";
  root.append(info);

  if (e) root.append(paramsForm(node.id, e.params, node.params, v?.nodes?.[node.id]?.inferred || {}, !!graph.inBlock));

  const arity = e?.arity || { min: 1, max: 1 };
  if (node.inputs.length || arity.max !== 0) root.append(inputsList(graph, node, arity, v));

  const out = document.createElement("label");
  out.className = "check";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.dataset.testid = "node-output";
  box.checked = graph.output === node.id;
  box.addEventListener("change", () => commit(() => actions.setOutput(box.checked ? node.id : null)));
  out.append(box, " The model returns this node (output)");
  root.append(out);

  if (v?.nodes?.[node.id]?.params || node.frozen) {
    const freeze = document.createElement("label");
    freeze.className = "check";
    freeze.title = "Transfer learning: the optimizer leaves these weights as they start (the graph's init.weights, or fresh)";
    const fbox = document.createElement("input");
    fbox.type = "checkbox";
    fbox.dataset.testid = "node-frozen";
    fbox.checked = !!node.frozen;
    fbox.addEventListener("change", () => commit(() => actions.setFrozen(node.id, fbox.checked)));
    freeze.append(fbox, " Frozen: keep its start weights while training");
    root.append(freeze);
  }

  const errs = document.createElement("ul");
  errs.className = "tc-inspector-msgs";
  errs.dataset.testid = "inspector-messages";
  root.append(errs);
  const xray = actions.xray?.(node.id);
  if (xray) root.append(xray);
  root.append(button("Delete layer", () => actions.remove([node.id]), "danger"));
}

function renderBlockForm(graph, kind, block) {
  const list = getCatalog()[{ loss: "losses", optimizer: "optimizers", scheduler: "schedulers" }[kind]] || [];
  const e = entry(block.type);
  root.append(heading(`${kind[0].toUpperCase()}${kind.slice(1)}: ${block.type}`, e?.description || ""));
  const select = document.createElement("select");
  select.dataset.testid = "block-type";
  select.id = "f-block-type";
  for (const item of list) select.append(new Option(item.type, item.type, false, item.type === block.type));
  select.addEventListener("change", () => actions.setBlock(kind, select.value));
  root.append(row("Type", select));
  if (e) root.append(paramsForm(kind, e.params, block.params || {}, {}));
  const errs = document.createElement("ul");
  errs.className = "tc-inspector-msgs";
  errs.dataset.testid = "inspector-messages";
  root.append(errs);
  root.append(button(`Remove ${kind}`, () => actions.removeBlock(kind), "danger"));
}

/**
 * The node's inputs in order, each removable; merges can be reordered; and a
 * picker to connect another layer (or one output port of a layer with several),
 * so wiring works without a mouse too.
 */
function inputsList(graph, node, arity, v) {
  const box = document.createElement("div");
  box.className = "field";
  const label = document.createElement("label");
  label.textContent = node.inputs.length > 1 ? "Inputs, in order" : "Input";
  const ol = document.createElement("ol");
  ol.className = "tc-inputs";
  ol.dataset.testid = "inputs";
  node.inputs.forEach((src, i) => {
    const li = document.createElement("li");
    li.append(span(refLabel(src)));
    if (i > 0) {
      const up = button("↑", () => {
        const next = [...node.inputs];
        [next[i - 1], next[i]] = [next[i], next[i - 1]];
        actions.setInputs(node.id, next);
      }, "small");
      up.setAttribute("aria-label", `Move ${refLabel(src)} up to input ${i}`);
      li.append(up);
    }
    const cut = button("Disconnect", () => actions.setInputs(node.id, node.inputs.filter((_, j) => j !== i)), "small");
    cut.setAttribute("aria-label", `Disconnect input ${i + 1} (${refLabel(src)})`);
    cut.dataset.testid = `input-${i + 1}-remove`;
    li.append(cut);
    ol.append(li);
  });
  box.append(label, ol);
  if (arity.max === 0) return box;
  const candidates = graph.nodes.filter((n) => n.id !== node.id && !actions.wouldCycle(n.id, node.id));
  if (candidates.length) {
    const pick = document.createElement("select");
    pick.id = "f-add-input";
    pick.dataset.testid = "add-input";
    pick.setAttribute("aria-label", `Connect an input to ${node.id}`);
    pick.append(new Option(arity.max === 1 && node.inputs.length ? "Replace input with…" : "Connect input from…", ""));
    const refs = new Map();
    for (const n of candidates) {
      const outs = portCount(graph, n, v?.nodes?.[n.id]);
      for (let k = 0; k < outs; k += 1) {
        const ref = makeRef(n.id, k);
        const value = outs > 1 ? refKey(ref) : n.id; // a plain id stays the option's value
        refs.set(value, ref);
        pick.append(new Option(`${outs > 1 ? `${n.id} output ${k}` : n.id} (${n.type})`, value));
      }
    }
    pick.addEventListener("change", () => {
      if (pick.value) actions.connect(refs.get(pick.value), node.id);
    });
    box.append(pick);
  }
  return box;
}

// -- params --------------------------------------------------------------------------

/** `inBlock`: the node is inside a block, so a value may be `$name`, one of the block's params. */
function paramsForm(ownerId, schema, params, inferred, inBlock = false) {
  const form = document.createElement("div");
  form.className = "tc-params";
  for (const [name, raw] of Object.entries(schema?.properties || {})) {
    const spec = fieldSpec(raw);
    const required = (schema.required || []).includes(name);
    form.append(paramField(ownerId, name, inBlock ? { ...spec, blockRef: true } : spec, params, inferred, required));
  }
  if (!form.childElementCount) {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = "No parameters.";
    form.append(p);
  }
  return form;
}

/** Reduce a property schema to {kind, nullable, min, max, ...}. */
export function fieldSpec(raw) {
  let s = raw;
  let nullable = false;
  if (s.anyOf && s["x-form"] !== "pair" && s.anyOf.some((x) => x.type === "null")) {
    nullable = true;
    s = s.anyOf.find((x) => x.type !== "null");
  }
  const base = { nullable, default: raw.default, description: raw.description, inferred: !!raw["x-inferred"] };
  if (s["x-form"] === "pair") return { ...base, kind: "pair", ...bounds(s.anyOf[0]) };
  if (s["x-form"] === "ints") return { ...base, kind: "ints", ...bounds(s.anyOf[0]) };
  if (s.enum) return { ...base, kind: "enum", options: s.enum };
  if (s.type === "boolean") return { ...base, kind: "bool" };
  if (s.type === "integer") return { ...base, kind: "int", ...bounds(s) };
  if (s.type === "number") return { ...base, kind: "float", ...bounds(s) };
  if (s.type === "array") {
    return { ...base, kind: "list", item: s.items?.type === "number" ? "float" : "int", ...bounds(s.items || {}), minItems: s.minItems, maxItems: s.maxItems };
  }
  return { ...base, kind: "str" };
}

const bounds = (s) => ({ min: s.minimum ?? s.exclusiveMinimum, exclusive: s.exclusiveMinimum !== undefined, max: s.maximum });

function paramField(ownerId, name, spec, params, inferred, required) {
  const has = Object.prototype.hasOwnProperty.call(params, name);
  const inferredValue = inferred[name];
  const locked = spec.inferred && !has && inferredValue !== undefined && inferredValue !== null;
  const value = has ? params[name] : locked ? inferredValue : spec.default;
  let input;
  if (spec.kind === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = !!value;
  } else if (spec.kind === "enum") {
    input = document.createElement("select");
    for (const opt of spec.options) input.append(new Option(String(opt), JSON.stringify(opt), false, opt === value));
  } else {
    input = document.createElement("input");
    // Inside a block a number may be `$planes`: typed as text there.
    input.type = (spec.kind === "int" || spec.kind === "float") && !spec.blockRef ? "number" : "text";
    if (spec.kind === "int") input.step = "1";
    if (spec.kind === "float") input.step = "any";
    input.value = toText(value);
    input.placeholder = spec.inferred ? "inferred" : spec.nullable ? "none" : required ? "required" : "";
    if (spec.blockRef) input.placeholder += input.placeholder ? " or $param" : "value or $param";
  }
  input.dataset.testid = `param-${name}`;
  input.dataset.param = name;
  input.id = `f-${name}`;
  input.name = name;
  if (locked) {
    input.readOnly = true;
    input.disabled = spec.kind === "bool" || spec.kind === "enum";
    input.classList.add("inferred");
    input.title = `inferred from the incoming tensor: ${toText(inferredValue)}`;
  }
  const msg = document.createElement("div");
  msg.className = "field-msg";
  msg.id = `f-${name}-msg`;
  msg.dataset.testid = `param-${name}-error`;
  msg.setAttribute("aria-live", "polite");
  input.setAttribute("aria-describedby", msg.id);

  const onEdit = () => {
    const parsed = parseValue(input, spec, required);
    showFieldError(input, msg, parsed.error);
    if (!parsed.error || parsed.commit) {
      commit(() => actions.setParam(ownerId, name, parsed.value, `param:${ownerId}:${name}`));
    }
  };
  if (!locked) {
    input.addEventListener(spec.kind === "bool" || spec.kind === "enum" ? "change" : "input", onEdit);
  }
  const label = `${name}${required ? " *" : ""}`;
  const r = row(label, input, spec.description);
  r.append(msg);
  if (spec.inferred) {
    const toggle = button(locked ? "Override" : has ? "Infer" : "", () => {
      if (locked) {
        commit(() => actions.setParam(ownerId, name, inferredValue, null));
        shown = null; // rebuild the form with the field editable
        actions.refresh();
      } else actions.setParam(ownerId, name, undefined, null);
    }, "small");
    toggle.setAttribute("aria-label", `${locked ? "override" : "infer"} ${name}`);
    toggle.dataset.testid = `param-${name}-${locked ? "override" : "infer"}`;
    if (locked || has) r.querySelector(".field-row").append(toggle);
  }
  return r;
}

function toText(v) {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.join(", ");
  return String(v);
}

/** {value, error, commit}: value undefined means "use the default" (the param is removed). */
export function parseValue(input, spec, required) {
  if (spec.kind === "bool") return { value: input.checked };
  if (spec.kind === "enum") return { value: JSON.parse(input.value) };
  const text = input.value.trim();
  if (text === "") {
    if (required) return { error: "required", value: undefined };
    return { value: undefined };
  }
  if (spec.blockRef && text.startsWith("$")) {
    // One of the block's params, replaced by each use's value (the server checks the name).
    return /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(text) ? { value: text } : { error: "$ and a param name" };
  }
  if (spec.kind === "str") return { value: input.value };
  if (spec.kind === "int" || spec.kind === "float") {
    const n = Number(text);
    if (!Number.isFinite(n)) return { error: "must be a number" };
    if (spec.kind === "int" && !Number.isInteger(n)) return { error: "must be a whole number" };
    return { value: n, error: rangeError(n, spec), commit: true };
  }
  const parts = text.replace(/^[[(]|[\])]$/g, "").split(/[\s,x×]+/).filter(Boolean);
  const nums = parts.map(Number);
  if (!nums.length || nums.some((n) => !Number.isFinite(n))) return { error: "numbers separated by commas" };
  const intOnly = spec.kind === "pair" || spec.kind === "ints" || spec.item === "int";
  if (intOnly && nums.some((n) => !Number.isInteger(n))) return { error: "whole numbers only" };
  if (spec.kind === "pair") {
    if (nums.length > 2) return { error: "one number, or two for height and width" };
    const value = nums.length === 1 ? nums[0] : nums;
    return { value, error: nums.map((n) => rangeError(n, spec)).find(Boolean), commit: true };
  }
  if (spec.kind === "ints") {
    // One number stays a number (dim: 1); several are a list (dim: [2, 3]).
    const value = nums.length === 1 ? nums[0] : nums;
    return { value, error: nums.map((n) => rangeError(n, spec)).find(Boolean), commit: true };
  }
  if (spec.minItems && nums.length < spec.minItems) return { error: `at least ${spec.minItems} values` };
  if (spec.maxItems && nums.length > spec.maxItems) return { error: `at most ${spec.maxItems} values` };
  return { value: nums, error: nums.map((n) => rangeError(n, spec)).find(Boolean), commit: true };
}

function rangeError(n, spec) {
  if (spec.min !== undefined && (spec.exclusive ? n <= spec.min : n < spec.min)) {
    return spec.exclusive ? `must be greater than ${spec.min}` : `must be at least ${spec.min}`;
  }
  if (spec.max !== undefined && n > spec.max) return `must be at most ${spec.max}`;
  return null;
}

function showFieldError(input, msg, error) {
  input.setAttribute("aria-invalid", error ? "true" : "false");
  msg.textContent = error || "";
  msg.dataset.source = error ? "client" : "";
}

// -- validation results ------------------------------------------------------------------

function updateStatus(graph, sel, v) {
  if (!sel || !root) return;
  const isBlock = BLOCK_KINDS.includes(sel);
  const nv = isBlock ? null : v?.nodes?.[sel];
  const info = root.querySelector("[data-testid=inspector-shape]");
  if (info) info.replaceChildren(...shapeLines(nv));
  const problems = isBlock
    ? [...(v?.errors || []).filter((e) => e.component === sel).map((e) => ({ ...e, level: "error" })),
      ...(v?.warnings || []).filter((e) => e.component === sel).map((e) => ({ ...e, level: "warning" }))]
    : [...(nv?.errors || []).map((e) => ({ ...e, level: "error" })), ...(nv?.warnings || []).map((e) => ({ ...e, level: "warning" }))];
  for (const input of root.querySelectorAll("[data-param]")) {
    const msg = root.querySelector(`#f-${input.dataset.param}-msg`);
    if (msg?.dataset.source === "client") continue;
    const own = problems.find((p) => p.param === input.dataset.param && p.level === "error");
    input.setAttribute("aria-invalid", own ? "true" : "false");
    if (msg) {
      msg.textContent = own ? own.message : "";
      msg.dataset.source = own ? "server" : "";
    }
    if (input.classList.contains("inferred") && nv?.inferred?.[input.dataset.param] !== undefined) {
      input.value = toText(nv.inferred[input.dataset.param]);
    }
  }
  const list = root.querySelector("[data-testid=inspector-messages]");
  if (list) {
    list.replaceChildren(...problems.map((p) => {
      const li = document.createElement("li");
      li.className = `msg-${p.level}`;
      li.textContent = p.message;
      return li;
    }));
  }
}
