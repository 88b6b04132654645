/**
 * The decision boundary of a 2-D model: a heatmap of its predictions over a
 * grid, with the data points drawn on top, redrawn every epoch.
 *
 * The trainer sends `values` as rows over `y` and columns over `x`: either one
 * number per cell (binary probability or a regression value) or a list of
 * class probabilities per cell. The grid is painted at its own resolution on
 * an offscreen canvas and scaled up with smoothing, which is cheap and looks
 * continuous, then points are drawn crisp at full resolution.
 */
import {el, fmt, cssVar} from "./dom.js";
import {CLASS_COLORS, classColor, mix} from "./colors.js";

const SIZE = 280;

export class BoundaryView {
  /** `first`: put the view before the container's other children (beside the metric chart). */
  constructor(container, {first = false} = {}) {
    this.canvas = el("canvas", {width: SIZE, height: SIZE, class: "tp-boundary-canvas",
      "aria-label": "Decision boundary with the data points"});
    this.caption = el("p", {class: "tp-caption"}, "The boundary appears after the first epoch.");
    this.box = el("div", {class: "tp-boundary", "data-testid": "boundary", "data-epoch": "0"},
      this.canvas, this.caption);
    this.wrap = el("div", {class: "tp-diag", hidden: true}, el("h4", {}, "Decision boundary"), this.box);
    if (first) container.prepend(this.wrap);
    else container.append(this.wrap);
    this.points = null; // {x: [[x1, x2]], y: [label]}
    this.event = null;
  }

  /** Show or hide the view: it only makes sense for 2-D datasets. */
  setVisible(visible) { this.wrap.hidden = !visible; }

  setPoints(points) { this.points = points; this.draw(); }

  setBoundary(event) { this.event = event; this.draw(); }

  clear() { this.event = null; this.box.dataset.epoch = "0"; this.draw(); }

  _bounds() {
    const e = this.event;
    if (e && e.x?.length && e.y?.length) {
      return [e.x[0], e.x[e.x.length - 1], e.y[0], e.y[e.y.length - 1]];
    }
    const pts = this.points?.x || [];
    if (!pts.length) return [-1, 1, -1, 1];
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const pad = (a, b) => (b - a) * 0.1 || 1;
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    return [x0 - pad(x0, x1), x1 + pad(x0, x1), y0 - pad(y0, y1), y1 + pad(y0, y1)];
  }

  /** Data coordinates of a click on the canvas (for "try it"). */
  toData(event) {
    const rect = this.canvas.getBoundingClientRect();
    const [x0, x1, y0, y1] = this._bounds();
    const fx = (event.clientX - rect.left) / rect.width;
    const fy = (event.clientY - rect.top) / rect.height;
    return [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)];
  }

  /** Mark a tried point with a ring. */
  mark(point) { this.marked = point; this.draw(); }

  draw() {
    const ctx = this.canvas.getContext("2d");
    ctx.fillStyle = cssVar("--tp-surface", "#fff");
    ctx.fillRect(0, 0, SIZE, SIZE);
    const [x0, x1, y0, y1] = this._bounds();
    if (this.event) this._heatmap(ctx);
    const px = (x) => ((x - x0) / (x1 - x0)) * SIZE;
    const py = (y) => SIZE - ((y - y0) / (y1 - y0)) * SIZE; // y grows upwards
    const pts = this.points?.x || [];
    const labels = this.points?.y || [];
    ctx.lineWidth = 1;
    // The heatmap is light in both themes, so a white edge reads best on it.
    ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
    const regression = labels.some((v) => typeof v === "number" && !Number.isInteger(v));
    const [lo, hi] = regression ? [Math.min(...labels), Math.max(...labels)] : [0, 1];
    for (let i = 0; i < pts.length; i++) {
      ctx.beginPath();
      ctx.arc(px(pts[i][0]), py(pts[i][1]), 3, 0, Math.PI * 2);
      const label = Array.isArray(labels[i]) ? labels[i][0] : labels[i];
      ctx.fillStyle = regression
        ? `rgb(${mix(CLASS_COLORS[0], CLASS_COLORS[1], (label - lo) / (hi - lo || 1)).join(",")})`
        : classColor(label ?? 0);
      ctx.fill();
      ctx.stroke();
    }
    if (this.marked) {
      ctx.beginPath();
      ctx.arc(px(this.marked[0]), py(this.marked[1]), 7, 0, Math.PI * 2);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = cssVar("--tp-text", "#111");
      ctx.stroke();
    }
  }

  _heatmap(ctx) {
    const e = this.event;
    const rows = e.values.length;
    const cols = rows ? e.values[0].length : 0;
    if (!rows || !cols) return;
    const off = document.createElement("canvas");
    off.width = cols;
    off.height = rows;
    const octx = off.getContext("2d");
    const img = octx.createImageData(cols, rows);
    // A one-element list is a binary probability: treat it like a plain number.
    const cell = (v) => (Array.isArray(v) && v.length === 1 ? v[0] : v);
    const scalar = !Array.isArray(cell(e.values[0][0]));
    let lo = 0;
    let hi = 1;
    if (scalar) {
      const finite = e.values.flat().map(cell).filter((v) => v !== null && Number.isFinite(v));
      lo = Math.min(...finite);
      hi = Math.max(...finite);
      // Probabilities keep their 0..1 meaning so 0.5 is always the boundary.
      if (lo >= 0 && hi <= 1) { lo = 0; hi = 1; }
    }
    const white = [255, 255, 255];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let rgb = white;
        const v = cell(e.values[r][c]);
        if (scalar) {
          if (v !== null) {
            const t = (v - lo) / (hi - lo || 1);
            // Diverging: class 0's colour, white at the middle, class 1's colour.
            rgb = t < 0.5 ? mix(CLASS_COLORS[0], white, t * 2) : mix(white, CLASS_COLORS[1], (t - 0.5) * 2);
          }
        } else if (Array.isArray(v) && v.length) {
          let best = 0;
          for (let k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
          // Confidence fades the class colour: pale where the model hesitates.
          const conf = v.length > 1 ? (v[best] - 1 / v.length) / (1 - 1 / v.length) : v[best];
          rgb = mix(white, CLASS_COLORS[best % CLASS_COLORS.length], 0.25 + 0.6 * Math.max(0, conf));
        }
        // Image rows go downwards, the grid's y upwards: flip.
        const o = ((rows - 1 - r) * cols + c) * 4;
        img.data[o] = rgb[0];
        img.data[o + 1] = rgb[1];
        img.data[o + 2] = rgb[2];
        img.data[o + 3] = 255;
      }
    }
    octx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.globalAlpha = 0.85;
    ctx.drawImage(off, 0, 0, SIZE, SIZE);
    ctx.globalAlpha = 1;
    this.box.dataset.epoch = String(e.epoch);
    this.caption.textContent = `Epoch ${e.epoch}: ${scalar && !(lo === 0 && hi === 1)
      ? `prediction from ${fmt(lo, 3)} to ${fmt(hi, 3)}` : "colour = predicted class, paler = less sure"}.`;
  }
}
