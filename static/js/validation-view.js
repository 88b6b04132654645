/**
 * Live validation: after every change (debounced) the graph goes to
 * POST /api/graphs/validate and the answer is handed to the canvas, the
 * inspector and the summary bar (`validation`: valid or not, the total parameter
 * count, and every error and warning, each a button that selects its node).
 *
 * Answers that arrive after a newer request was sent are dropped.
 */

import { validateGraph } from "./api.js";
import { fmtCount } from "./catalog.js";

const DEBOUNCE_MS = 200;

export function createValidator({ summary, list, onResult, onPick }) {
  let timer = null;
  let seq = 0;
  let controller = null;

  async function run(graph) {
    const mine = ++seq;
    controller?.abort();
    controller = new AbortController();
    summary.dataset.state = "pending";
    try {
      const v = await validateGraph(graph, controller.signal);
      if (mine !== seq) return;
      show(v);
      onResult(v);
    } catch (err) {
      if (err.name === "AbortError" || mine !== seq) return;
      const v = { valid: false, nodes: {}, errors: [{ node: null, param: null, message: err.message }], warnings: [], total_params: null };
      show(v);
      onResult(v);
    }
  }

  function show(v) {
    const errors = v.errors || [];
    const warnings = v.warnings || [];
    const nodeErrors = Object.values(v.nodes || {}).flatMap((n) => n.errors || []);
    const nodeWarnings = Object.values(v.nodes || {}).flatMap((n) => n.warnings || []);
    const allErrors = dedupe([...errors, ...nodeErrors]);
    const allWarnings = dedupe([...warnings, ...nodeWarnings]);
    summary.dataset.state = v.valid ? "valid" : "invalid";
    summary.dataset.valid = String(!!v.valid);
    summary.querySelector("[data-role=status]").textContent = v.valid
      ? "✓ Valid"
      : `✗ ${allErrors.length} error${allErrors.length === 1 ? "" : "s"}`;
    summary.querySelector("[data-role=params]").textContent = `${fmtCount(v.total_params)} params`;
    summary.querySelector("[data-role=warnings]").textContent = allWarnings.length
      ? `⚠ ${allWarnings.length} warning${allWarnings.length === 1 ? "" : "s"}`
      : "";
    list.replaceChildren(
      ...allErrors.map((e) => item(e, "error")),
      ...allWarnings.map((e) => item(e, "warning")),
    );
  }

  function item(e, level) {
    const li = document.createElement("li");
    li.className = `msg-${level}`;
    const where = e.node || e.component;
    if (where) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.textContent = where;
      b.addEventListener("click", () => onPick(where));
      li.append(b, ": ");
    }
    li.append(e.message);
    return li;
  }

  return {
    schedule(graph) {
      clearTimeout(timer);
      summary.dataset.state = "pending";
      timer = setTimeout(() => run(graph), DEBOUNCE_MS);
    },
    now: run,
    /** A report the server already made for exactly this graph (an import's answer). */
    accept(v) {
      clearTimeout(timer);
      ++seq;
      controller?.abort();
      show(v);
      onResult(v);
    },
  };
}

function dedupe(list) {
  const seen = new Set();
  return list.filter((e) => {
    const k = `${e.node}|${e.component}|${e.param}|${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
