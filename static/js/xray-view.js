/**
 * X-ray of one layer in the inspector: what flows through it for one validation
 * sample (feature-map thumbnails or a heat strip, with statistics), the gradient
 * one batch sends back to it, and its cost (FLOPs, activation memory).
 *
 * The numbers come from POST /api/graphs/inspect (the seed's initial weights) or,
 * when a finished run is open, POST /api/runs/{id}/inspect (its best checkpoint).
 */

import { inspectGraph, inspectRun } from "./api.js";
import { fmtCount } from "./catalog.js";

const SCALE = 3; // thumbnail pixels per value

export function xraySection(nodeId, { getGraph, runId }) {
  const box = document.createElement("section");
  box.className = "tc-xray";
  box.dataset.testid = "xray";
  const head = document.createElement("div");
  head.className = "tc-xray-head";
  const sample = Object.assign(document.createElement("input"), {
    type: "number", min: "0", value: "0", title: "Which validation sample",
  });
  sample.dataset.testid = "xray-sample";
  sample.className = "tc-xray-sample";
  const go = Object.assign(document.createElement("button"), { type: "button", textContent: "X-ray" });
  go.dataset.testid = "xray-button";
  go.title = "Look inside this layer for one sample of the dataset";
  const timing = Object.assign(document.createElement("input"), { type: "checkbox" });
  timing.dataset.testid = "xray-timing";
  const timingLabel = document.createElement("label");
  timingLabel.className = "check";
  timingLabel.title = "Measure forward+backward time of each layer on the run's device";
  timingLabel.append(timing, " time each layer");
  const where = document.createElement("span");
  where.className = "hint";
  head.append(go, " sample ", sample, timingLabel, where);
  const body = document.createElement("div");
  body.dataset.testid = "xray-body";
  box.append(head, body);

  go.addEventListener("click", async () => {
    const run = runId();
    body.textContent = "Looking inside…";
    box.dataset.state = "loading";
    try {
      const n = Number(sample.value) || 0;
      const report = run ? await inspectRun(run, n, "best", timing.checked)
        : await inspectGraph(getGraph(), n, timing.checked);
      where.textContent = run ? ` (run ${run.slice(0, 8)}, ${report.checkpoint} weights)` : " (initial weights)";
      render(body, report, nodeId);
      box.dataset.state = "ready";
    } catch (err) {
      body.textContent = `X-ray failed: ${err.message.replace(/^\d+: /, "")}`;
      box.dataset.state = "error";
    }
  });
  return box;
}

function render(body, report, nodeId) {
  const n = report.nodes[nodeId];
  body.replaceChildren();
  if (!n) {
    body.textContent = "This layer is not in the inspected network.";
    return;
  }
  const pct = (v) => `${(100 * v).toFixed(0)}%`;
  const sci = (v) => (typeof v === "number" ? v.toExponential(2) : "–");
  const stats = [
    ["output", `(${n.shape.join(", ")})`],
    ["mean / std", `${n.mean.toFixed(3)} / ${n.std.toFixed(3)}`],
    ["zeros", pct(n.zeros)],
    ...(n.saturated !== undefined ? [["saturated", pct(n.saturated)]] : []),
    ["gradient in", sci(n.grad_norm)],
    ...(n.grad_to_weight !== undefined ? [["grad / weight", sci(n.grad_to_weight)]] : []),
    ["FLOPs (1 sample)", fmtCount(n.flops)],
    ["activations (batch)", `${(n.activation_bytes / 1024).toFixed(1)} KB`],
    ...(n.forward_backward_ms !== undefined ? [["forward+backward", `${n.forward_backward_ms.toFixed(2)} ms`]] : []),
  ];
  const dl = document.createElement("dl");
  dl.className = "tc-xray-stats";
  for (const [k, v] of stats) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  const pics = document.createElement("div");
  pics.className = "tc-xray-pics";
  pics.dataset.testid = "xray-pictures";
  if (n.maps) {
    for (const map of n.maps) pics.append(picture(map));
    if (n.channels > n.maps.length) pics.append(Object.assign(document.createElement("span"), { className: "hint", textContent: `first ${n.maps.length} of ${n.channels} channels` }));
  } else if (n.strip) {
    pics.append(picture([n.strip]));
  }
  const total = document.createElement("p");
  total.className = "hint";
  total.textContent = `Whole network: ${fmtCount(report.total_flops)} FLOPs per sample, about ${report.memory.total_human} to train a batch of ${report.memory.batch_size}. Label of sample ${report.sample}: ${report.label ?? "–"}.`;
  body.append(pics, dl, total);
}

function picture(rows) {
  const h = rows.length;
  const w = rows[0].length;
  const canvas = document.createElement("canvas");
  const tall = h === 1 ? 12 : h * SCALE;
  canvas.width = w * (h === 1 ? 1 : SCALE);
  canvas.height = tall;
  canvas.className = h === 1 ? "tc-xray-strip" : "tc-xray-map";
  const ctx = canvas.getContext("2d");
  const cw = canvas.width / w;
  const ch = canvas.height / h;
  rows.forEach((row, y) => row.forEach((v, x) => {
    ctx.fillStyle = `rgb(${v},${v},${v})`;
    ctx.fillRect(x * cw, y * ch, Math.ceil(cw), Math.ceil(ch));
  }));
  return canvas;
}
