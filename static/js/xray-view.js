/**
 * X-ray of one layer in the inspector: what flows through it for one validation
 * sample, or for the input the user gave Try it (feature-map thumbnails or a heat
 * strip, with statistics), the gradient one batch sends back to it, and its cost
 * (FLOPs, activation memory).
 *
 * The numbers come from POST /api/graphs/inspect (the seed's initial weights) or,
 * when a finished run is open, POST /api/runs/{id}/inspect with the weights the
 * user picks: best, last, or those kept after any epoch (GET .../checkpoints).
 * The choices and the last report live here, outside the inspector's DOM (which is
 * rebuilt on every edit), so the edge popover (edge-xray.js) can reuse the report.
 */

import { inspectGraph, inspectRun, runCheckpoints } from "./api.js";
import { fmtCount } from "./catalog.js";

const SCALE = 3; // thumbnail pixels per value

// What to look at: the sample, the weights ("best", "last" or "epoch:N"), the source
// ("dataset" or "yours": Try it's input), and whether to time each layer.
const choice = { sample: 0, weights: "best", source: "dataset", input: null, timing: false };
let last = null; // {key, report}: the newest report, for re-renders and the edge popover
const kept = new Map(); // run id -> its checkpoints answer (a finished run's never change)
let current = null; // the section on screen: {run: () => Promise}

/** Use Try it's input (a nested list shaped like the Input) for the next X-rays. */
export function setXrayInput(input) {
  choice.input = input;
  choice.source = "yours";
}

/** Run the X-ray of the section on screen, if one is (after "X-ray this" in Try it). */
export function xrayNow() {
  return current?.run();
}

/** JSON with sorted keys and without positions: two copies of one network compare equal. */
function networkKey(value) {
  if (Array.isArray(value)) return `[${value.map(networkKey).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).filter((k) => k !== "ui").sort().map((k) => `${JSON.stringify(k)}:${networkKey(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function keyOf(graph, run) {
  const input = choice.source === "yours" ? choice.input : null;
  return JSON.stringify([networkKey(graph), run, run ? choice.weights : null, input, input ? null : choice.sample]);
}

/** The report for the current choices: the last one when it still applies, else a new one. */
export async function reportFor({ getGraph, runId }, { fresh = false } = {}) {
  const graph = getGraph();
  const run = runId();
  const key = keyOf(graph, run);
  if (!fresh && last?.key === key) return last.report;
  const input = choice.source === "yours" ? choice.input : null;
  const epoch = choice.weights.startsWith("epoch:") ? Number(choice.weights.slice(6)) : null;
  const which = epoch === null ? choice.weights : "best";
  const report = run
    ? await inspectRun(run, choice.sample, which, choice.timing, { epoch, input })
    : await inspectGraph(graph, choice.sample, choice.timing, input);
  last = { key, report };
  return report;
}

/** The last report, when it was made for this network (any weights); else null. */
export function lastReport(graph) {
  return last && JSON.parse(last.key)[0] === networkKey(graph) ? last.report : null;
}

export function xraySection(nodeId, ctx) {
  const { getGraph, runId } = ctx;
  const box = document.createElement("section");
  box.className = "tc-xray";
  box.dataset.testid = "xray";
  const head = document.createElement("div");
  head.className = "tc-xray-head";
  const sample = Object.assign(document.createElement("input"), {
    type: "number", min: "0", value: String(choice.sample), title: "Which validation sample",
  });
  sample.dataset.testid = "xray-sample";
  sample.className = "tc-xray-sample";
  sample.setAttribute("aria-label", "Validation sample");
  const go = Object.assign(document.createElement("button"), { type: "button", textContent: "X-ray" });
  go.dataset.testid = "xray-button";
  go.title = "Look inside this layer for one sample of the dataset";
  const timing = Object.assign(document.createElement("input"), { type: "checkbox", checked: choice.timing });
  timing.dataset.testid = "xray-timing";
  const timingLabel = document.createElement("label");
  timingLabel.className = "check";
  timingLabel.title = "Measure forward+backward time of each layer on the run's device";
  timingLabel.append(timing, " time each layer");
  const where = document.createElement("span");
  where.className = "hint";
  head.append(go, " sample ", sample, timingLabel, where);

  // Try it's input, once there is one: the user can switch between it and the dataset.
  const source = document.createElement("select");
  source.dataset.testid = "xray-source";
  source.setAttribute("aria-label", "What to send through the network");
  source.append(new Option("a dataset sample", "dataset"), new Option("your Try-it input", "yours"));
  const sourceRow = document.createElement("label");
  sourceRow.className = "tc-xray-row";
  sourceRow.append("Input: ", source);

  // A finished run's weights: best, last, or any epoch it kept.
  const epochs = document.createElement("select");
  epochs.dataset.testid = "xray-epoch";
  epochs.setAttribute("aria-label", "Which weights of the run");
  const epochRow = document.createElement("label");
  epochRow.className = "tc-xray-row";
  epochRow.title = "The run's weights to look at: its best or last checkpoint, or the weights after any epoch it kept";
  epochRow.append("Weights: ", epochs);

  const body = document.createElement("div");
  body.dataset.testid = "xray-body";
  box.append(head, sourceRow, epochRow, body);

  const sync = () => {
    sourceRow.hidden = choice.input === null;
    source.value = choice.source;
    sample.disabled = choice.source === "yours";
  };
  sync();
  const run = runId();
  epochRow.hidden = !run;
  if (run) fillEpochs(epochs, run);

  const show = async ({ fresh = false } = {}) => {
    body.textContent = "Looking inside…";
    box.dataset.state = "loading";
    try {
      const report = await reportFor(ctx, { fresh });
      const id = runId();
      const weights = id ? `run ${id.slice(0, 8)}, ${report.checkpoint} weights` : "initial weights";
      where.textContent = ` (${weights})`;
      render(body, report, nodeId);
      box.dataset.state = "ready";
      box.dataset.weights = id ? report.checkpoint : "initial";
    } catch (err) {
      body.textContent = `X-ray failed: ${err.message.replace(/^\d+: /, "")}`;
      box.dataset.state = "error";
    }
  };
  go.addEventListener("click", () => {
    choice.sample = Number(sample.value) || 0;
    choice.timing = timing.checked;
    show({ fresh: true });
  });
  sample.addEventListener("change", () => { choice.sample = Number(sample.value) || 0; });
  timing.addEventListener("change", () => { choice.timing = timing.checked; });
  source.addEventListener("change", () => {
    choice.source = source.value;
    sync();
    if (box.dataset.state) show();
  });
  epochs.addEventListener("change", () => {
    choice.weights = epochs.value;
    if (box.dataset.state) show();
  });
  // The section is rebuilt on every edit: show the report it showed, when it still applies.
  if (last?.key === keyOf(getGraph(), run)) show();
  current = { run: () => show() };
  return box;
}

async function fillEpochs(select, run) {
  const add = (value, text) => select.append(new Option(text, value));
  add("best", "best checkpoint");
  add("last", "last checkpoint");
  select.value = choice.weights.startsWith("epoch:") ? "best" : choice.weights;
  try {
    if (!kept.has(run)) kept.set(run, await runCheckpoints(run));
  } catch {
    return; // an older server: best and last only
  }
  const info = kept.get(run);
  select.options[0].text = info.best === null ? "best checkpoint" : `best (epoch ${info.best})`;
  select.options[1].text = info.last === null ? "last checkpoint" : `last (epoch ${info.last})`;
  for (const e of info.epochs) add(`epoch:${e}`, e === 0 ? "epoch 0 (before training)" : `after epoch ${e}`);
  if ([...select.options].some((o) => o.value === choice.weights)) select.value = choice.weights;
  else choice.weights = "best";
}

function render(body, report, nodeId) {
  const n = report.nodes[nodeId];
  body.replaceChildren();
  if (!n) {
    body.textContent = "This layer is not in the inspected network.";
    return;
  }
  const sci = (v) => (typeof v === "number" ? v.toExponential(2) : "–");
  const extra = [
    ["gradient in", sci(n.grad_norm)],
    ...(n.grad_to_weight !== undefined ? [["grad / weight", sci(n.grad_to_weight)]] : []),
    ["FLOPs (1 sample)", fmtCount(n.flops)],
    ["activations (batch)", `${(n.activation_bytes / 1024).toFixed(1)} KB`],
    ...(n.forward_backward_ms !== undefined ? [["forward+backward", `${n.forward_backward_ms.toFixed(2)} ms`]] : []),
  ];
  const [pics, dl] = valueView(n, extra);
  const total = document.createElement("p");
  total.className = "hint";
  const what = report.input === "yours" ? "Your Try-it input." : `Label of sample ${report.sample}: ${report.label ?? "–"}.`;
  total.textContent = `Whole network: ${fmtCount(report.total_flops)} FLOPs per sample, about ${report.memory.total_human} to train a batch of ${report.memory.batch_size}. ${what}`;
  body.append(pics, dl, total);
}

/** One value's pictures and statistics: [pictures element, <dl>] (`extra`: more rows). */
export function valueView(n, extra = [], maxMaps = Infinity) {
  const pct = (v) => `${(100 * v).toFixed(0)}%`;
  const stats = [
    ["output", `(${n.shape.join(", ")})`],
    ["mean / std", `${n.mean.toFixed(3)} / ${n.std.toFixed(3)}`],
    ["zeros", pct(n.zeros)],
    ...(n.saturated !== undefined ? [["saturated", pct(n.saturated)]] : []),
    ...extra,
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
    const maps = n.maps.slice(0, maxMaps);
    for (const map of maps) pics.append(picture(map));
    if (n.channels > maps.length) pics.append(Object.assign(document.createElement("span"), { className: "hint", textContent: `first ${maps.length} of ${n.channels} channels` }));
  } else if (n.strip) {
    pics.append(picture([n.strip]));
  }
  return [pics, dl];
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
