/**
 * Live training curves drawn with uPlot: loss per step, metrics and learning rate per epoch.
 *
 * uPlot redraws 100k points in a few milliseconds, but only if we call
 * `setData` at most once per animation frame; `update()` therefore only marks
 * a chart dirty and the redraw happens on the next frame. The data arrays are
 * the run model's own columns (no copies), and the series list is rebuilt only
 * when it changes shape (another run overlaid, a regression run opened).
 */
import uPlot from "uplot";
import {el, fmt, cssVar} from "./dom.js";

// Compact, so progress, the loss and the boundary fit one screen of the training view.
const HEIGHT = 150;

// Tick steps from 1e-16 to 1e40: uPlot's defaults stop at 1e16, so a diverged
// loss (1e30 and up) would otherwise get an axis without a single label.
const Y_INCRS = [];
for (let e = -16; e <= 40; e++) for (const m of [1, 2, 5]) Y_INCRS.push(Number(`${m}e${e}`));

function palette() {
  return {
    axis: cssVar("--tp-chart-axis", "#555"),
    grid: cssVar("--tp-chart-grid", "rgba(128,128,128,0.2)"),
    s: [1, 2, 3, 4, 5].map((i) => cssVar(`--tp-series-${i}`, ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#64748b"][i - 1])),
  };
}

/** Room for the longest tick label, so "-1.00e+33" is not cut off at the edge. */
function axisSize(u, values) {
  const longest = Math.max(3, ...(values || []).map((v) => String(v ?? "").length));
  return Math.min(90, longest * 7 + 18);
}

// Log ticks: whole decades, spaced so that about five get a label; uPlot's own
// log labels disappear when decades are only a few pixels apart (a diverged run).
const LOG_AXIS = {
  splits: (u, axisIdx, min, max) => {
    const lo = Math.ceil(Math.log10(min));
    const hi = Math.floor(Math.log10(max));
    const step = Math.max(1, Math.ceil((hi - lo) / 5));
    const out = [];
    for (let e = lo; e <= hi; e += step) out.push(10 ** e);
    return out.length ? out : [min, max];
  },
  filter: (u, splits) => splits,
};

/** The last non-null value of a column (epoch series are mostly gaps on the step axis). */
function latest(column) {
  for (let i = (column?.length ?? 0) - 1; i >= 0; i--) if (column[i] !== null && column[i] !== undefined) return column[i];
  return null;
}

/** One chart in a labelled box; owns its uPlot instance and repaints on demand. */
class Chart {
  constructor(container, {testid, title, xLabel, integerX = false, logToggle = false}) {
    this.integerX = integerX;
    this.xLabel = xLabel;
    this.log = false;
    this.box = el("div", {class: "tp-chart", "data-testid": testid, role: "figure", "aria-label": title, "data-points": "0"});
    this.titleEl = el("span", {}, title);
    // A log axis keeps a diverging or slowly converging loss readable.
    this.logBox = logToggle ? el("input", {type: "checkbox", "data-testid": `${testid}-log`,
      onchange: () => this.setLog(this.logBox.checked)}) : null;
    container.append(el("div", {class: "tp-chart-wrap"},
      el("h4", {class: "tp-chart-title"}, this.titleEl,
        this.logBox ? el("label", {class: "tp-chart-option"}, this.logBox, "log scale") : null),
      this.box));
    this.plot = null;
    this.key = "";
    this.data = null;
    this.dirty = false;
    // Follow the panel's width; uPlot does not resize by itself.
    new ResizeObserver(() => this._resize()).observe(this.box);
  }

  setTitle(text) {
    this.titleEl.textContent = text;
    this.box.setAttribute("aria-label", text);
  }

  setLog(on) {
    if (this.logBox) this.logBox.checked = on;
    if (on === this.log) return;
    this.log = on;
    this.key = ""; // the scale is part of the build
    if (this.series) this.show(this.series, this.data, this.extraScales);
  }

  _width() { return Math.max(160, Math.floor(this.box.clientWidth || 400)); }

  _resize() {
    if (this.plot && Math.abs(this.plot.width - this._width()) > 2) {
      this.plot.setSize({width: this._width(), height: HEIGHT});
    }
  }

  /** Replace the series and data. `series` = [{label, color, width, dash, points, scale}]; `axes` optional extra y axes. */
  show(series, data, extraScales = {}) {
    const key = JSON.stringify([series, Object.keys(extraScales), this.log]);
    this.data = data;
    this.series = series;
    this.extraScales = extraScales;
    if (key !== this.key || !this.plot) {
      this.key = key;
      this._build(series, extraScales);
    }
    this._schedule();
  }

  _build(series, extraScales) {
    this.plot?.destroy();
    const c = palette();
    const axis = (extra = {}) => ({stroke: c.axis, grid: {stroke: c.grid, width: 1},
      ticks: {stroke: c.grid, width: 1}, values: (u, ticks) => ticks.map((t) => fmt(t, 3)), ...extra});
    const opts = {
      width: this._width(),
      height: HEIGHT,
      scales: {x: {time: false}, y: this.log ? {distr: 3, log: 10} : {}, ...extraScales},
      legend: {live: true},
      cursor: {drag: {x: true, y: false}},
      series: [
        {label: this.xLabel, value: (u, v, si, idx) => fmt(idx == null ? latest(u.data[0]) : v)},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color || c.s[i % c.s.length],
          width: s.width ?? 1.5,
          dash: s.dash,
          scale: s.scale || "y",
          spanGaps: true,
          points: {show: s.points ?? false, size: 5},
          // Not hovering (idx null): show the newest value, so the legend reads as a live readout.
          value: (u, v, si, idx) => fmt(idx == null ? latest(u.data[si]) : v),
        })),
      ],
      axes: [
        // Epochs are whole numbers: never tick at 1.5.
        axis({label: this.xLabel, labelSize: 18, ...(this.integerX ? {incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]} : {})}),
        axis({size: axisSize, incrs: Y_INCRS, ...(this.log ? LOG_AXIS : {})}),
        ...Object.keys(extraScales).map((scale) => axis({scale, side: 1, size: axisSize, incrs: Y_INCRS, grid: {show: false}})),
      ],
    };
    // A run that diverged gets a red line where the loss stopped being a number.
    opts.hooks = {draw: [(u) => {
      const x = this.marker?.();
      if (x === null || x === undefined) return;
      const px = Math.round(u.valToPos(x, "x", true));
      const ctx = u.ctx;
      ctx.save();
      ctx.strokeStyle = cssVar("--tp-bad", "#b91c1c");
      ctx.lineWidth = 2 * devicePixelRatio;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(px, u.bbox.top);
      ctx.lineTo(px, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.restore();
    }]};
    this.box.replaceChildren();
    this.plot = new uPlot(opts, this.data, this.box);
  }

  /** Mark the data changed; the redraw happens once on the next animation frame. */
  update() { this._schedule(); }

  _schedule() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      if (!this.plot || !this.data) return;
      this.plot.setData(this.data);
      this.box.dataset.points = String(this.data[0].length);
    });
  }
}

/** Where a diverged run broke: the step the trainer names ("... step 56: ..."), else the last streamed one. */
function divergedAt(run) {
  if (run.status !== "diverged") return null;
  const named = /step (\d+)/.exec(run.error || "");
  const last = run.steps[run.steps.length - 1];
  // The breaking step is usually just past the last streamed one: keep the line on the chart.
  if (named && run.steps.length && Number(named[1]) >= run.steps[0]) return Math.min(Number(named[1]), last);
  return run.lastStep ? run.lastStep.x : null;
}

/** Join several aligned tables ([x, ...ys]) on x, as uPlot's overlay of runs needs. */
function join(tables) {
  return tables.length === 1 ? tables[0] : uPlot.join(tables);
}

const range = (n) => Array.from({length: n}, (_, i) => i + 1);

/** The three training charts of the panel: the loss in `container`, the others in `more`. */
export class TrainingCharts {
  constructor(container, more = container) {
    this.loss = new Chart(container, {testid: "chart-loss", title: "Loss", xLabel: "step", logToggle: true});
    this.metric = new Chart(more, {testid: "chart-accuracy", title: "Accuracy", xLabel: "epoch", integerX: true});
    this.lr = new Chart(more, {testid: "chart-lr", title: "Learning rate", xLabel: "epoch", integerX: true});
    this.run = null;
    this.compare = null;
  }

  /** Show a run (and optionally a second one to compare against). */
  show(run, compare = null) {
    this.run = run;
    this.compare = compare;
    this.loss.marker = () => divergedAt(run);
    this.autoLogged = false;
    this.refresh(true);
  }

  /** Colours are baked into uPlot's canvas: rebuild the charts after a theme switch. */
  retheme() {
    for (const chart of [this.loss, this.metric, this.lr]) chart.key = "";
    this.refresh(true);
  }

  /** Redraw from the run models; `rebuild` when the runs themselves changed. */
  refresh(rebuild = false) {
    const run = this.run;
    if (!run) return;
    // A diverged curve spans many orders of magnitude: only a log axis shows both parts.
    if (run.status === "diverged" && !this.autoLogged) {
      this.autoLogged = true;
      this.loss.setLog(true);
    }
    const cmp = this.compare;
    // Overlaid runs are told apart by the names people gave them, not by hex ids.
    const tag = cmp ? ` (${run.title || `#${run.id}`})` : "";
    const ctag = cmp ? ` (${cmp.title || `#${cmp.id}`})` : "";
    const c = palette();

    // Loss: the step curve with the epoch means on the same x.
    const lossSeries = [
      {label: `step loss${tag}`, color: c.s[0], width: 1},
      {label: `train loss${tag}`, color: c.s[1], width: 2, points: true},
      {label: `val loss${tag}`, color: c.s[2], width: 2, points: true},
    ];
    const lossTables = [[run.steps, run.stepLoss, run.stepTrainLoss, run.stepValLoss]];
    if (cmp) {
      lossSeries.push({label: `step loss${ctag}`, color: c.s[4], width: 1, dash: [4, 3]},
        {label: `val loss${ctag}`, color: c.s[3], width: 2, dash: [6, 3], points: true});
      lossTables.push([cmp.steps, cmp.stepLoss, cmp.stepValLoss]);
    }
    const lossData = join(lossTables);
    if (rebuild || !cmp) this.loss.show(lossSeries, lossData);
    else { this.loss.data = lossData; this.loss.update(); }

    // Accuracy, or R² and MAE for regression (MAE has its own unit: right axis);
    // a language model adds perplexity, exp(token loss), on its own right axis.
    const regression = run.isRegression;
    const ppl = !regression && run.hasPerplexity;
    this.metric.setTitle(regression ? "R² and MAE" : ppl ? "Token accuracy and perplexity" : "Accuracy");
    const metricKeys = regression
      ? [["val_r2", "val R²"], ["val_mae", "val MAE", "mae"]]
      : [["train_accuracy", "train acc"], ["val_accuracy", "val acc"],
        ...(ppl ? [["val_perplexity", "val perplexity", "ppl"]] : [])];
    const metricSeries = metricKeys.map(([, label, scale], i) =>
      ({label: label + tag, color: c.s[i + 1], width: 2, points: true, scale}));
    const metricTables = [[range(run.epochs.length), ...metricKeys.map(([k]) => run.epochSeries(k))]];
    if (cmp) {
      const [k, label, scale] = metricKeys[regression ? 0 : 1];
      metricSeries.push({label: label + ctag, color: c.s[3], width: 2, dash: [6, 3], points: true, scale});
      metricTables.push([range(cmp.epochs.length), cmp.epochSeries(k)]);
    }
    this.metric.show(metricSeries, join(metricTables), regression ? {mae: {}} : ppl ? {ppl: {}} : {});

    // Learning rate: what the scheduler actually did.
    const lrSeries = [{label: `lr${tag}`, color: c.s[3], width: 2, points: true}];
    const lrTables = [[range(run.epochs.length), run.epochSeries("lr")]];
    if (cmp) {
      lrSeries.push({label: `lr${ctag}`, color: c.s[4], width: 2, dash: [6, 3], points: true});
      lrTables.push([range(cmp.epochs.length), cmp.epochSeries("lr")]);
    }
    this.lr.show(lrSeries, join(lrTables));
  }
}
