/**
 * Draws a dataset preview: an image grid, a 2-D scatter or the head of a table.
 *
 * The preview endpoint describes a few samples; this module only turns them
 * into pixels and cells, so the picker can stay about choosing.
 */
import {el, fmt} from "./dom.js";
import {classColor} from "./colors.js";

/** One image sample ((C,H,W), (H,W) or flat with a known shape) onto a small canvas. */
export function imageCanvas(sample, shape, scale) {
  let chw = sample;
  if (!Array.isArray(sample[0])) {
    // Flat pixels: fold them with the dataset's input shape.
    const [c, h, w] = shape.length === 3 ? shape : [1, ...shape];
    chw = Array.from({length: c}, (_, k) => Array.from({length: h}, (_, i) => sample.slice(k * h * w + i * w, k * h * w + (i + 1) * w)));
  } else if (!Array.isArray(sample[0][0])) {
    chw = [sample];
  }
  const channels = chw.length;
  const h = chw[0].length;
  const w = chw[0][0].length;
  const flat = chw.flat(2);
  const lo = Math.min(...flat);
  const hi = Math.max(...flat);
  const canvas = el("canvas", {width: w, height: h, class: "tp-thumb",
    style: `width:${w * scale}px;height:${h * scale}px`});
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const o = (i * w + j) * 4;
      for (let k = 0; k < 3; k++) {
        const v = chw[channels === 3 ? k : 0][i][j];
        img.data[o + k] = Math.round(((v - lo) / (hi - lo || 1)) * 255);
      }
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function imageGrid(images, labels, info) {
  const shape = info.input_shape || [];
  const side = shape[shape.length - 1] || 28;
  const scale = Math.max(1, Math.round(48 / side));
  return el("div", {class: "tp-image-grid"}, images.map((img, i) =>
    el("figure", {class: "tp-thumb-fig"}, imageCanvas(img, shape, scale),
      el("figcaption", {}, labelName(labels?.[i], info)))));
}

function labelName(label, info) {
  if (label === undefined || label === null) return "";
  const v = Array.isArray(label) ? label[0] : label;
  return Number.isInteger(v) && info.class_names?.[v] !== undefined ? info.class_names[v] : fmt(v, 3);
}

function scatter(points, labels) {
  const size = 220;
  const canvas = el("canvas", {width: size, height: size, class: "tp-scatter", "aria-label": "Scatter plot of the data"});
  const ctx = canvas.getContext("2d");
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1] ?? 0);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = (x) => 10 + ((x - x0) / (x1 - x0 || 1)) * (size - 20);
  const py = (y) => size - 10 - ((y - y0) / (y1 - y0 || 1)) * (size - 20);
  const flatLabels = labels.map((l) => (Array.isArray(l) ? l[0] : l));
  const regression = flatLabels.some((v) => typeof v === "number" && !Number.isInteger(v));
  const lo = Math.min(...flatLabels);
  const hi = Math.max(...flatLabels);
  points.forEach((p, i) => {
    ctx.beginPath();
    ctx.arc(px(p[0]), py(p[1] ?? 0), 2.5, 0, Math.PI * 2);
    ctx.fillStyle = regression ? `hsl(${220 - ((flatLabels[i] - lo) / (hi - lo || 1)) * 200}, 70%, 50%)`
      : classColor(flatLabels[i] ?? 0, 0.85);
    ctx.fill();
  });
  return canvas;
}

const TABLE_ROWS = 6; // a head, not the file: enough to see the columns and their scale

function table(columns, allRows) {
  const rows = allRows.slice(0, TABLE_ROWS);
  return el("div", {class: "tp-table-wrap"}, el("table", {class: "tp-head-table"},
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {scope: "col"}, c)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, (Array.isArray(r) ? r : columns.map((c) => r[c]))
      .map((v) => el("td", {}, typeof v === "number" ? fmt(v, 4) : v)))))));
}

/** Pick out features and labels whatever the preview calls them. */
export function previewSamples(p) {
  if (Array.isArray(p.points)) {
    // 2-D sets: `[x1, x2, label]` rows (`[x, y]` for 1-D regression): the last value is the target.
    return {x: p.points.map((r) => r.slice(0, -1)), y: p.points.map((r) => r[r.length - 1])};
  }
  const x = p.x ?? p.features ?? p.inputs ?? p.samples ?? p.images ?? [];
  const y = p.y ?? p.labels ?? p.targets ?? [];
  return {x, y};
}

/** Render a preview answer for a dataset `info`. */
export function renderPreview(p, info) {
  const kind = p.kind || info.kind;
  const {x, y} = previewSamples(p);
  if (kind === "image" && x.length) return imageGrid(x, y, info);
  if (kind === "2d" && x.length) {
    // One feature (sine): plot the curve itself, x against the target.
    if (x[0].length === 1) return scatter(x.map((r, i) => [r[0], y[i]]), y.map(() => 0));
    return scatter(x, y);
  }
  if (p.columns && p.rows) return table(p.columns, p.rows);
  if (x.length && Array.isArray(x[0])) {
    const features = info.feature_names?.length ? info.feature_names : x[0].map((_, i) => `x${i + 1}`);
    const rows = x.slice(0, 8).map((r, i) => [...r, labelName(y[i], info)]);
    return table([...features, info.task === "regression" ? "target" : "label"], rows);
  }
  return el("p", {class: "tp-caption"}, "No preview for this dataset.");
}
