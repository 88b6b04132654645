/**
 * What the canvas draws for each node: the HTML card (type, id, shape, params, the first
 * problem), its ports (one input; one output, or `out-k` per output port of a node with
 * several) and the data behind them, computed from the graph and the validation report.
 * Pure DOM building, no X6: canvas.js adds the cells.
 */

import { blockNameOf, nodeEntry } from "./blocks.js";
import { categoryColor, fmtCount, fmtShape } from "./catalog.js";
import { fmtBytes, fmtFlops } from "./cost-view.js";
import { refPort } from "./refs.js";

/** The HTML card of a node; `hooks.pick(id)` selects it from the keyboard. */
export function nodeElement(d, hooks) {
  const el = document.createElement("div");
  el.className = `tc-node kind-${d.kind}${d.state ? ` is-${d.state}` : ""}${d.frozen ? " is-frozen" : ""}${d.block ? " is-block" : ""}${d.expanded ? " is-expanded" : ""}`;
  el.style.setProperty("--cat", d.color);
  el.dataset.testid = d.testid;
  el.setAttribute("role", "button");
  el.setAttribute("tabindex", "0");
  el.setAttribute("aria-label", d.aria);
  const title = document.createElement("div");
  title.className = "tc-node-title";
  title.append(span("tc-type", d.type), span("tc-id", d.label));
  el.append(title);
  if (d.shape !== undefined) {
    const row = document.createElement("div");
    row.className = "tc-node-row";
    row.append(span("tc-node-shape", d.shape));
    el.append(row);
  }
  if (d.meta) el.append(span("tc-node-meta", d.meta, "div"));
  showCost(el, d);
  if (d.message) {
    // The card has room for one line: the whole message is its tooltip (and in the inspector).
    el.append(span("tc-node-msg", d.message, "div"));
    el.title = d.message;
  }
  if (d.kind === "inner") return el; // read-only: open the block to edit it
  el.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      hooks.pick(d.id);
    }
  });
  el.addEventListener("focus", () => {
    // Keyboard focus selects; a mouse click is left to X6's own selection.
    if (el.matches(":focus-visible") && !hooks.isSelected(d.cellId)) hooks.pick(d.id);
  });
  return el;
}

/** The cost badges of a card: FLOPs beside the shape, training memory after the meta line. */
export function showCost(el, d) {
  for (const old of el.querySelectorAll(".tc-node-cost, .tc-node-mem")) old.remove();
  if (!d.cost) return;
  const badge = span("tc-node-cost", d.cost.text);
  badge.title = d.cost.title;
  badge.dataset.testid = `cost-${d.id}`;
  el.querySelector(".tc-node-row")?.append(badge);
  const memory = span("tc-node-mem", ` · ${d.cost.memory}`);
  memory.title = d.cost.title;
  memory.dataset.testid = `memory-${d.id}`;
  el.querySelector(".tc-node-meta")?.append(memory);
}

function span(cls, text, tag = "span") {
  const s = document.createElement(tag);
  s.className = cls;
  s.textContent = text;
  return s;
}

/** Ports: one input (edges keep their order), and one output, or `out-k` per output port. */
export function portItems(id, hasIn, outs, names = null) {
  const items = [];
  if (hasIn) items.push({ id: "in", group: "in", attrs: { circle: { "data-testid": `port-${id}-in`, "aria-label": `${id} input` } } });
  if (outs === 1) items.push({ id: "out", group: "out", attrs: { circle: { "data-testid": `port-${id}-out`, "aria-label": `${id} output` } } });
  for (let k = 0; outs > 1 && k < outs; k += 1) {
    const name = names?.[k];
    items.push({
      id: `out-${k}`, group: "out",
      attrs: {
        circle: { "data-testid": `port-${id}-out-${k}`, "aria-label": `${id} output ${k}${name ? ` (${name})` : ""}` },
        text: { text: String(k), class: "tc-port-label" },
      },
    });
  }
  return items;
}

/** The X6 port an edge from `ref` leaves by (null: the node's centre, for a port it lacks). */
export function sourcePort(ref, outs) {
  if (outs <= 1) return refPort(ref) === 0 ? "out" : null;
  return refPort(ref) < outs ? `out-${refPort(ref)}` : null;
}

export const PORT_GROUPS = {
  in: { position: "top", attrs: { circle: { r: 7, magnet: "passive", class: "tc-port tc-port-in" } } },
  out: {
    position: "bottom", label: { position: { name: "top", args: { y: -6 } } },
    attrs: { circle: { r: 7, magnet: true, class: "tc-port tc-port-out" } },
  },
};

/** The card's data; `cost` is POST /api/graphs/cost's answer for this graph, or null. */
export function nodeData(node, v, outputs, g, cost = null) {
  const e = nodeEntry(g, node.type);
  const block = blockNameOf(node.type);
  const nv = v?.nodes?.[node.id];
  const errors = nv?.errors || [];
  const warnings = nv?.warnings || [];
  const state = !e ? "error" : errors.length ? "error" : warnings.length ? "warning" : "";
  const unknown = block ? `no block named ${block} in this graph` : `unknown type ${node.type}`;
  const message = !e ? unknown : errors[0]?.message || warnings[0]?.message || "";
  const shape = nv?.output_shapes?.length ? nv.output_shapes.map(fmtShape).join(" · ")
    : nv?.output_shape ? fmtShape(nv.output_shape) : "–";
  const meta = [`${fmtCount(nv?.params ?? null)} params`, node.frozen ? "frozen" : null,
    outputs.has(node.id) ? "output" : null].filter(Boolean).join(" · ");
  const c = cost?.nodes?.[node.id];
  const badge = c && {
    text: `${fmtFlops(c.flops)} FLOPs`,
    memory: fmtBytes(c.training_bytes), // the card has room for the number; the title says what
    title: `${c.flops.toLocaleString("en-US")} FLOPs (${c.macs.toLocaleString("en-US")} MACs) for one sample, `
      + "as torch.utils.flop_counter counts them (matrix products and convolutions); "
      + `activations ${fmtBytes(c.activation_bytes)} for a batch of ${cost.batch_size}; `
      + `about ${fmtBytes(c.training_bytes)} to train (weights, gradients, optimizer state, activations)`,
  };
  return {
    id: node.id,
    cellId: node.id,
    kind: "layer",
    type: block ? `▣ ${block}` : node.type,
    block: !!block,
    expanded: !!(block && node.ui?.expanded),
    label: node.id,
    testid: `node-${node.id}`,
    color: categoryColor(e?.category || "unknown"),
    state,
    frozen: !!node.frozen,
    shape,
    meta,
    cost: badge,
    message,
    aria: `${node.type} ${node.id}, output ${shape}${message ? `, ${message}` : ""}`,
  };
}

export function blockData(kind, block, v) {
  const problems = [...(v?.errors || []), ...(v?.warnings || [])].filter((e) => e.component === kind);
  const isError = (v?.errors || []).some((e) => e.component === kind);
  const params = Object.entries(block.params || {}).map(([k, val]) => `${k}=${JSON.stringify(val)}`).join(", ");
  return {
    id: kind,
    cellId: `__${kind}`,
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

