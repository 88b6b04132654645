/**
 * Hover an edge, see what flows along it: a small popover with the X-ray of the
 * source node's output (that port), from the last X-ray report when it was made
 * for this network, else from a new one with the X-ray's current choices
 * (xray-view.js): sample, weights, or Try it's input.
 */

import { lastReport, reportFor, valueView } from "./xray-view.js";

const MAPS = 8; // thumbnails in the popover

export function createEdgePopover(ctx) {
  const box = document.createElement("div");
  box.className = "tc-edge-xray";
  box.dataset.testid = "edge-xray";
  box.setAttribute("role", "tooltip");
  box.hidden = true;
  document.body.append(box);
  let token = 0;
  let hideTimer = null;
  // Moving onto the popover keeps it open; leaving it closes it.
  box.addEventListener("mouseenter", () => clearTimeout(hideTimer));
  box.addEventListener("mouseleave", () => hide());

  function place(x, y) {
    const w = box.offsetWidth || 260;
    const h = box.offsetHeight || 160;
    box.style.left = `${Math.max(4, Math.min(x + 14, window.innerWidth - w - 4))}px`;
    box.style.top = `${Math.max(4, Math.min(y + 14, window.innerHeight - h - 4))}px`;
  }

  async function show({ src, port = 0, dst }, x, y) {
    clearTimeout(hideTimer);
    const mine = ++token;
    const title = document.createElement("div");
    title.className = "tc-edge-xray-title";
    title.textContent = `${src}${port ? ` port ${port}` : ""} → ${dst}`;
    box.replaceChildren(title, Object.assign(document.createElement("p"), { className: "hint", textContent: "Looking inside…" }));
    box.dataset.state = "loading";
    box.hidden = false;
    place(x, y);
    try {
      const report = lastReport(ctx.getGraph()) || await reportFor(ctx);
      if (mine !== token) return;
      const node = report.nodes[src];
      const value = port ? node?.ports?.[String(port)] : node;
      if (!value) {
        box.replaceChildren(title, Object.assign(document.createElement("p"), { textContent: "Not in the inspected network." }));
      } else {
        const [pics, dl] = valueView(value, [], MAPS);
        const what = report.input === "yours" ? "your Try-it input" : `sample ${report.sample}`;
        const weights = report.checkpoint ? `${report.checkpoint} weights` : "initial weights";
        box.replaceChildren(title, pics, dl, Object.assign(document.createElement("p"), { className: "hint", textContent: `${what}, ${weights}` }));
      }
      box.dataset.state = "ready";
      place(x, y);
    } catch (err) {
      if (mine !== token) return;
      box.replaceChildren(title, Object.assign(document.createElement("p"), { className: "tc-error", textContent: `X-ray failed: ${err.message.replace(/^\d+: /, "")}` }));
      box.dataset.state = "error";
    }
  }

  function hide() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => {
      token++;
      box.hidden = true;
      delete box.dataset.state;
    }, 250);
  }
  return { show, hide };
}
