/**
 * Cost on the canvas: after each valid validation, POST /api/graphs/cost (cheap: the
 * meta device, cached by the server) and hand the answer to the canvas, which shows
 * each node's FLOPs and training memory on its card; the total goes beside the
 * parameter count in the status line.
 */

import { graphCost } from "./api.js";

/** 23552 -> "23.6k", 1.2e9 -> "1.2G": FLOPs as a person reads them. */
export function fmtFlops(n) {
  if (typeof n !== "number") return "–";
  const units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toFixed(n >= 10 * size ? 0 : 1)}${unit}`;
  return String(n);
}

/** 800 -> "800 B", 1536 -> "1.5 KB", 526848 -> "515 KB": short enough for a card. */
export function fmtBytes(n) {
  if (typeof n !== "number") return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`;
}

export function createCostView({ total, setCost }) {
  let timer = null;
  let controller = null;
  const clear = () => {
    setCost(null);
    total.textContent = "";
    total.title = "";
  };
  return {
    /** After a validation: fetch the cost of a valid graph, clear it for an invalid one. */
    update(graph, valid) {
      clearTimeout(timer);
      controller?.abort();
      if (!valid) {
        clear();
        return;
      }
      timer = setTimeout(async () => {
        controller = new AbortController();
        try {
          const cost = await graphCost(graph, controller.signal);
          setCost(cost);
          total.textContent = `${fmtFlops(cost.total_flops)} FLOPs · ${cost.memory.total_human} to train`;
          const m = cost.memory;
          total.title = `One sample: ${cost.total_flops.toLocaleString("en-US")} FLOPs (${cost.total_macs.toLocaleString("en-US")} MACs). `
            + `Training a batch of ${cost.batch_size}: weights ${fmtBytes(m.weights)}, gradients ${fmtBytes(m.gradients)}, `
            + `optimizer state ${fmtBytes(m.optimizer_state)}, activations ${fmtBytes(m.activations)}; about ${m.total_human} in all.`;
        } catch (err) {
          if (err.name !== "AbortError") clear();
        }
      }, 200);
    },
  };
}
