/**
 * The pre-flight doctor card: one button runs POST /api/graphs/doctor on the graph as
 * it would train (a learning-rate range test, overfit one batch, initialisation
 * checks, lints); the findings name the layer and the fix, the loss-against-lr
 * curve is drawn with the suggested lr marked, and one click puts that lr into the
 * optimizer block (an undoable edit, like any other).
 */

import {el, errorText} from "./dom.js";
import {applyLearningRate} from "./graph-link.js";
import * as api from "../api.js";

export class Doctor {
  constructor(root, {graphForRun}) {
    this.graphForRun = graphForRun;
    this.button = el("button", {type: "button", "data-testid": "doctor"}, "Check before training");
    this.status = el("p", {class: "tp-hint", "aria-live": "polite"},
      "A minute of small experiments: the learning rate, whether one batch can be learned, how the layers start.");
    this.plot = el("canvas", {class: "tp-lr-plot", width: 320, height: 150, "data-testid": "lr-plot", hidden: true});
    this.apply = el("button", {type: "button", "data-testid": "apply-lr", hidden: true});
    this.list = el("ul", {class: "tp-findings", "data-testid": "findings"});
    root.append(this.button, this.status, this.plot, this.apply, this.list);
    this.button.addEventListener("click", () => this.run());
    this.apply.addEventListener("click", () => {
      applyLearningRate(this.suggested);
      this.apply.textContent = `lr ${this.suggested} set in the optimizer`;
      this.apply.disabled = true;
    });
  }

  async run() {
    const graph = this.graphForRun();
    if (!graph.data?.dataset) {
      this.status.textContent = "Choose a dataset first: the doctor tries the network on it.";
      return;
    }
    this.button.disabled = true;
    this.status.textContent = "Running the checks…";
    this.list.replaceChildren();
    try {
      const report = await api.doctor(graph);
      this.show(report);
    } catch (err) {
      this.status.textContent = `The doctor could not run: ${errorText(err)}`;
    } finally {
      this.button.disabled = false;
    }
  }

  show(report) {
    const fit = report.overfit || {};
    this.status.textContent = report.findings.length
      ? `${report.findings.length} finding(s).`
      : "No problems found: the network can learn one batch, and its learning rate is in range.";
    if (fit.first_loss != null) {
      this.status.textContent += ` One batch: loss ${fit.first_loss.toPrecision(3)} → ${fit.last_loss.toPrecision(3)}.`;
    }
    this.list.replaceChildren(...report.findings.map((f) => el("li", {"data-kind": f.kind},
      el("strong", {}, f.node || f.component || "graph"), `: ${f.message}`,
      f.fix ? el("span", {class: "tp-hint"}, ` Fix: ${f.fix}.`) : "")));
    this.suggested = report.suggested_lr;
    if (report.lr_curve?.length) this.draw(report.lr_curve, report.suggested_lr, report.current_lr);
    const show = this.suggested != null && this.suggested !== report.current_lr;
    this.apply.hidden = !show;
    this.apply.disabled = false;
    if (show) this.apply.textContent = `Use lr ${this.suggested} (now ${report.current_lr})`;
  }

  /** Loss against lr on a log axis; the current lr dashed, the suggestion solid. */
  draw(curve, suggested, current) {
    const c = this.plot;
    c.hidden = false;
    const ctx = c.getContext("2d");
    const style = getComputedStyle(c);
    ctx.clearRect(0, 0, c.width, c.height);
    const pad = 24;
    const xs = curve.map(([lr]) => Math.log10(lr));
    const ys = curve.map(([, loss]) => loss);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const [y0, y1] = [Math.min(...ys), Math.min(Math.max(...ys), 4 * Math.min(...ys) + 1e-9)];
    const px = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (c.width - 2 * pad);
    const py = (y) => c.height - pad - ((Math.min(y, y1) - y0) / (y1 - y0 || 1)) * (c.height - 2 * pad);
    ctx.strokeStyle = style.color || "#888";
    ctx.lineWidth = 2;
    ctx.beginPath();
    xs.forEach((x, i) => (i ? ctx.lineTo(px(x), py(ys[i])) : ctx.moveTo(px(x), py(ys[i]))));
    ctx.stroke();
    const mark = (lr, dash, label, row) => {
      if (lr == null) return;
      const x = px(Math.log10(lr));
      ctx.setLineDash(dash);
      ctx.beginPath();
      ctx.moveTo(x, pad / 2);
      ctx.lineTo(x, c.height - pad);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillText(label, Math.min(x + 3, c.width - 80), pad / 2 + 8 + 12 * row);
    };
    ctx.fillStyle = style.color || "#888";
    ctx.font = "11px sans-serif";
    ctx.lineWidth = 1;
    mark(suggested, [], `suggested ${suggested}`, 0);
    mark(current, [4, 3], `now ${current}`, 1);
    ctx.fillText("loss", 2, pad - 8);
    ctx.fillText("learning rate (log)", c.width - 110, c.height - 6);
  }
}
