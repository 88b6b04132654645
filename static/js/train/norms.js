/**
 * Per-layer gradient and weight norms as horizontal bars on a log scale.
 *
 * Gradients that vanish or explode differ by orders of magnitude between
 * layers, which a linear scale would hide; each bar is log10 of the norm, and
 * values outside a healthy band are flagged in words, not only colour.
 */
import {el, fmt} from "./dom.js";

const VANISH = 1e-5;
const EXPLODE = 1e3;

function bars(title, testid, norms, flag) {
  const entries = Object.entries(norms || {});
  if (!entries.length) return el("div", {class: "tp-norms", "data-testid": testid}, el("h5", {}, title), el("p", {class: "tp-caption"}, "No data yet."));
  const logs = entries.map(([, v]) => Math.log10(Math.max(v ?? 0, 1e-12)));
  const lo = Math.min(...logs, -6);
  const hi = Math.max(...logs, 1);
  return el("div", {class: "tp-norms", "data-testid": testid}, el("h5", {}, title),
    el("ul", {class: "tp-bars"}, entries.map(([node, value], i) => {
      const width = ((logs[i] - lo) / (hi - lo || 1)) * 100;
      const warn = flag ? flag(value) : "";
      return el("li", {class: `tp-bar-row ${warn ? "tp-warn" : ""}`, "data-node": node},
        el("span", {class: "tp-bar-label", title: node}, node),
        el("span", {class: "tp-bar-track"}, el("span", {class: "tp-bar", style: `width:${Math.max(1, width).toFixed(1)}%`})),
        el("span", {class: "tp-bar-value"}, fmt(value, 3), warn ? ` ${warn}` : ""));
    })));
}

const gradFlag = (v) => (v == null ? "" : v < VANISH ? "(vanishing)" : v > EXPLODE ? "(exploding)" : "");

export class NormsView {
  constructor(container) {
    this.box = el("div", {class: "tp-norms-pair"});
    this.wrap = el("div", {class: "tp-diag"}, el("h4", {}, "Per-layer norms (log scale)"), this.box);
    container.append(this.wrap);
    this.show(null);
  }

  show(epochEvent) {
    const e = epochEvent || {};
    this.box.replaceChildren(
      bars(`Gradient norms${e.epoch ? `, epoch ${e.epoch}` : ""}`, "grad-norms", e.grad_norms, gradFlag),
      bars("Weight norms", "weight-norms", e.weight_norms));
  }
}
