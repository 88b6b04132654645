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

const HEIGHT = 190;

function palette() {
  return {
    axis: cssVar("--tp-chart-axis", "#555"),
    grid: cssVar("--tp-chart-grid", "rgba(128,128,128,0.2)"),
    s: [1, 2, 3, 4, 5].map((i) => cssVar(`--tp-series-${i}`, ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#64748b"][i - 1])),
  };
}

/** The last non-null value of a column (epoch series are mostly gaps on the step axis). */
function latest(column) {
  for (let i = (column?.length ?? 0) - 1; i >= 0; i--) if (column[i] !== null && column[i] !== undefined) return column[i];
  return null;
}

/** One chart in a labelled box; owns its uPlot instance and repaints on demand. */
class Chart {
  constructor(container, {testid, title, xLabel, integerX = false}) {
    this.integerX = integerX;
    this.title = title;
    this.xLabel = xLabel;
    this.box = el("div", {class: "tp-chart", "data-testid": testid, role: "figure", "aria-label": title, "data-points": "0"});
    container.append(el("div", {class: "tp-chart-wrap"}, el("h4", {class: "tp-chart-title"}, title), this.box));
    this.plot = null;
    this.key = "";
    this.data = null;
    this.dirty = false;
    // Follow the panel's width; uPlot does not resize by itself.
    new ResizeObserver(() => this._resize()).observe(this.box);
  }

  _width() { return Math.max(240, Math.floor(this.box.clientWidth || 400)); }

  _resize() {
    if (this.plot && Math.abs(this.plot.width - this._width()) > 2) {
      this.plot.setSize({width: this._width(), height: HEIGHT});
    }
  }

  /** Replace the series and data. `series` = [{label, color, width, dash, points, scale}]; `axes` optional extra y axes. */
  show(series, data, extraScales = {}) {
    const key = JSON.stringify([series, Object.keys(extraScales)]);
    this.data = data;
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
      scales: {x: {time: false}, ...extraScales},
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
        axis({size: 58}),
        ...Object.keys(extraScales).map((scale) => axis({scale, side: 1, size: 58, grid: {show: false}})),
      ],
    };
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

/** Join several aligned tables ([x, ...ys]) on x, as uPlot's overlay of runs needs. */
function join(tables) {
  return tables.length === 1 ? tables[0] : uPlot.join(tables);
}

const range = (n) => Array.from({length: n}, (_, i) => i + 1);

/** The three training charts of the panel. */
export class TrainingCharts {
  constructor(container) {
    this.loss = new Chart(container, {testid: "chart-loss", title: "Loss", xLabel: "step"});
    this.metric = new Chart(container, {testid: "chart-accuracy", title: "Accuracy", xLabel: "epoch", integerX: true});
    this.lr = new Chart(container, {testid: "chart-lr", title: "Learning rate", xLabel: "epoch", integerX: true});
    this.run = null;
    this.compare = null;
  }

  /** Show a run (and optionally a second one to compare against). */
  show(run, compare = null) {
    this.run = run;
    this.compare = compare;
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
    const cmp = this.compare;
    const tag = cmp ? ` (#${run.id})` : "";
    const ctag = cmp ? ` (#${cmp.id})` : "";
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

    // Accuracy, or R² and MAE for regression (MAE has its own unit: right axis).
    const regression = run.isRegression;
    this.metric.box.previousSibling.textContent = regression ? "R² and MAE" : "Accuracy";
    this.metric.box.setAttribute("aria-label", regression ? "R² and MAE" : "Accuracy");
    const metricKeys = regression
      ? [["val_r2", "val R²"], ["val_mae", "val MAE", "mae"]]
      : [["train_accuracy", "train acc"], ["val_accuracy", "val acc"]];
    const metricSeries = metricKeys.map(([, label, scale], i) =>
      ({label: label + tag, color: c.s[i + 1], width: 2, points: true, scale}));
    const metricTables = [[range(run.epochs.length), ...metricKeys.map(([k]) => run.epochSeries(k))]];
    if (cmp) {
      const [k, label, scale] = metricKeys[regression ? 0 : 1];
      metricSeries.push({label: label + ctag, color: c.s[3], width: 2, dash: [6, 3], points: true, scale});
      metricTables.push([range(cmp.epochs.length), cmp.epochSeries(k)]);
    }
    this.metric.show(metricSeries, join(metricTables), regression ? {mae: {}} : {});

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
