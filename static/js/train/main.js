/**
 * The training panel: pick data, train the canvas's network, watch it learn,
 * and look back at past runs. This module only wires the parts together and
 * decides which run is on screen; each part lives in its own module.
 *
 * A run on screen is a RunModel fed either by a RunStream (live, with
 * reconnects) or by one REST call (finished runs). Everything visible is
 * redrawn from the model, so a replay after a reload looks exactly like the
 * live run did.
 */
import {el, onThemeChange, errorText} from "./dom.js";
import * as api from "../api.js";
import {connect, currentGraph, restoreGraph} from "./graph-link.js";
import {RunModel, isFinal} from "./run-model.js";
import {RunStream} from "./stream.js";
import {DatasetPicker} from "./datasets.js";
import {UploadForm} from "./upload.js";
import {Controls} from "./controls.js";
import {Doctor} from "./doctor.js";
import {ProgressView} from "./progress.js";
import {TrainingCharts} from "./charts.js";
import {BoundaryView} from "./boundary.js";
import {ConfusionView} from "./confusion.js";
import {NormsView} from "./norms.js";
import {RunHistory, runDataset} from "./history.js";
import {TryIt} from "./tryit.js";
import {Gallery} from "./gallery.js";
import {previewSamples} from "./preview.js";

const LAST_RUN_KEY = "torchcanvas.train.lastRun";

const root = document.getElementById("train-panel");

const section = (cls, title) => el("section", {class: `tp-card ${cls}`, "aria-label": title}, el("h3", {}, title));

const dataCard = section("tp-data", "Data");
const runCard = section("tp-run", "Train");
const doctorCard = section("tp-doctor", "Doctor");
// The live view: progress, the loss, the boundary beside the metric; scrolled to the
// top of the panel when a run starts, so all of it is on screen while it trains.
const chartCard = section("tp-charts", "Curves");
const lossSlot = el("div", {class: "tp-live-loss"});
const liveRow = el("div", {class: "tp-live-row"});
const diagCard = section("tp-diagnostics", "Diagnostics");
const historyCard = el("section", {class: "tp-card tp-history", "aria-label": "Run history"});

const runHeader = el("div", {class: "tp-run-header"});

const view = {run: null, stream: null, compare: null, totalEpochs: null, dataset: null, charts: null};
const previews = new Map(); // dataset name -> preview samples, for boundary points

const picker = new DatasetPicker(dataCard, {onChange: () => syncDiagnostics(), defaults: () => controls.values().data});
new UploadForm(dataCard, {
  onUploaded: (upload) => picker.add(api.uploadEntry(upload)),
  onUse: (upload) => picker.choose(api.uploadEntry(upload).name),
  canSwitch: () => !currentGraph().data?.dataset,
});
const controls = new Controls(runCard, {onTrain: train, onStop: stop});
const progress = new ProgressView(chartCard);
chartCard.append(runHeader, lossSlot, liveRow);
const charts = new TrainingCharts(lossSlot, liveRow);
view.charts = charts;
window.__trainPanel = view; // lets tests drop the socket and inspect the model and charts
const boundary = new BoundaryView(liveRow, {first: true});
const confusion = new ConfusionView(diagCard);
const norms = new NormsView(diagCard);
const tryIt = new TryIt(diagCard);
const gallery = new Gallery(diagCard);
tryIt.useBoundary(boundary);
const history = new RunHistory(historyCard, {onOpen: (id) => openRun(id), onCompare: compareWith, onRestore: restore, onDelete: removeRun,
  onRenamed: (id) => renamed(id)});

/** A run got a new name: the header and the chart legends say it. */
function renamed(id) {
  const title = history.runs.find((r) => String(r.id) === id)?.title;
  if (!title) return;
  if (view.run?.id === id) { view.run.title = title; refreshHeader(view.run); }
  if (view.compare?.id === id) view.compare.title = title;
  if (view.run) charts.show(view.run, view.compare);
}

// The training view is one column of cards (train.css `.tp-train`) that scrolls on the
// right of the canvas. A new panel is one more card: `section("tp-NAME", "Title")`
// placed in this list (a card in `liveRow` sits beside the boundary and the accuracy,
// on the screen that stays in view while a run trains). `showLive` shows how to
// bring a card to the top.
root.classList.add("tp-train");
new Doctor(doctorCard, {graphForRun});
root.replaceChildren(dataCard, runCard, doctorCard, historyCard, chartCard, diagCard);
onThemeChange(() => { charts.retheme(); boundary.draw(); });

// ---------------------------------------------------------------- running

/** The canvas's graph with the Train card's settings: what a run (or the doctor) gets. */
function graphForRun() {
  const graph = currentGraph();
  const values = controls.values();
  if (graph.data) graph.data = {...graph.data, ...values.data};
  graph.training = {...(graph.training || {}), ...values.training};
  return graph;
}

async function train() {
  controls.showError("");
  const graph = graphForRun();
  if (!graph.data?.dataset) {
    controls.showError("Choose a dataset first.");
    return;
  }
  const entry = picker.entryFor(graph.data);
  if (entry?.available === false) {
    // Refused here, not after a failed download minutes into the run.
    controls.showError(entry.how_to_get || `${entry.name} is not available on this server.`);
    return;
  }
  controls.setRunning(true);
  let created;
  try {
    created = await api.createRun(graph, new URLSearchParams(location.search).get("project"));
  } catch (err) {
    controls.setRunning(false);
    controls.showError(err.status === 429 ? `Another run is training: ${errorText(err)}` : `Cannot train: ${errorText(err)}`);
    return;
  }
  await openRun(String(created.id), {graph, status: created.status});
  showLive();
  await history.refresh();
  renamed(String(created.id)); // the server named the new run: header and legends say it
}

/** Scroll the live view to the top of the panel: progress, curves and boundary in sight. */
function showLive() {
  root.scrollTo({top: Math.max(0, chartCard.offsetTop - 6)});
}

async function stop() {
  if (!view.run) return;
  controls.stop.disabled = true;
  // The worker stops within one batch; say so until the final status arrives.
  view.run.stopping = true;
  progress.show(view.run, view.totalEpochs);
  try {
    await api.stopRun(view.run.id);
  } catch (err) {
    controls.showError(`Could not stop: ${errorText(err)}`);
    controls.stop.disabled = false;
    if (view.run) view.run.stopping = false;
  }
}

// ---------------------------------------------------------------- showing a run

/** Put run `id` on screen: live through the websocket, or from stored events when finished. */
async function openRun(id, known = null) {
  view.stream?.close();
  view.stream = null;
  if (view.compare?.id === id) view.compare = null; // never overlay a run on itself
  let meta = known;
  if (!meta || !meta.graph) {
    try { meta = {...(known || {}), ...(await api.getRun(id))}; }
    catch (err) { controls.showError(`Cannot open run ${id}: ${errorText(err)}`); return; }
  }
  const run = new RunModel(id, meta);
  run.title = meta.title || null;
  view.run = run;
  view.totalEpochs = meta.graph?.training?.epochs ?? null;
  // Uploads are trained through `csv`/`imagefolder` + params: name them as the user does.
  view.dataset = picker.entryFor(meta.graph?.data)?.name ?? runDataset(meta);
  localStorage.setItem(LAST_RUN_KEY, id);
  history.setOpen(id);
  renderHeader(run, !!meta.has_checkpoint);
  boundary.clear();
  confusion.clear();
  tryIt.setRun(null);
  gallery.hide();
  await ensurePreview(view.dataset);
  syncDiagnostics();
  charts.show(run, view.compare);
  render([]);
  if (isFinal(meta.status)) {
    try { await loadEvents(run); }
    catch (err) { controls.showError(`Cannot load run ${id}: ${errorText(err)}`); }
    if (view.run !== run) return;
    // The stored status is authoritative even if its event was never written.
    if (!isFinal(run.status)) { run.status = meta.status; run.error = run.error || meta.error; }
    render(null);
    return;
  }
  controls.setRunning(true);
  showLive();
  view.stream = new RunStream(run, {
    onEvents: (batch) => { if (view.run === run) render(batch); },
    onState: (state) => { if (view.run === run) setLink(state); },
  });
}

/** All stored events of a finished run. The server answers in pages, so ask until it has no more. */
async function loadEvents(run) {
  for (;;) {
    const page = await api.runEvents(run.id, run.lastSeq);
    const events = Array.isArray(page) ? page : page.events || [];
    const before = run.lastSeq;
    for (const e of events) run.add(e);
    // Stop when done, and also if a page brought nothing new (never loop forever).
    if (!events.length || isFinal(run.status) || run.lastSeq === before) return;
  }
}

function setLink(state) {
  runHeader.dataset.link = state;
  const badge = runHeader.querySelector(".tp-link");
  if (badge) badge.textContent = state === "reconnecting" ? "connection lost, reconnecting…" : "";
}

/** The epoch whose weights `best.pt` holds: the lowest validation loss (else training loss). */
function bestEpoch(run) {
  let best = null;
  run.epochs.forEach((e, i) => {
    const v = e.val_loss ?? e.train_loss;
    if (Number.isFinite(v) && (best === null || v < best.v)) best = {v, epoch: e.epoch ?? i + 1};
  });
  return best?.epoch ?? null;
}

const fileSafe = (text) => String(text).replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^_+|_+$/g, "") || "run";

/** The open run's name and downloads: its best and its last checkpoint, each saying which epoch. */
function renderHeader(run, hasCheckpoint) {
  const name = run.title || `#${run.id}`;
  const file = fileSafe(name);
  const last = run.epochs.length ? run.epochs[run.epochs.length - 1].epoch ?? run.epochs.length : null;
  const best = bestEpoch(run);
  const checkpoint = (which, epoch) => el("a", {href: api.checkpointUrl(run.id, which),
    download: `${file}-${which}${epoch ? `-epoch${epoch}` : ""}.pt`, "data-testid": `download-checkpoint-${which}`,
    title: which === "best" ? "The weights of the epoch with the lowest validation loss" : "The weights after the last epoch"},
  `${which === "best" ? "Best" : "Last"} weights${epoch ? ` (epoch ${epoch})` : ""}`);
  runHeader.replaceChildren(
    el("span", {class: "tp-run-id", "data-testid": "run-title"}, `Run ${name}`),
    ...(hasCheckpoint
      ? [checkpoint("best", best), checkpoint("last", last)]
      : [el("span", {class: "tp-hint"}, isFinal(run.status) ? "no checkpoint" : "no checkpoint written yet")]),
    el("a", {href: api.codeUrl(run.id), download: `${file}.py`, "data-testid": "download-code"}, "Script"),
    ...(hasCheckpoint ? [
      el("a", {href: api.modelFileUrl(run.id, "onnx"), download: "", "data-testid": "download-onnx",
               title: "The trained network (best checkpoint) for onnxruntime"}, "ONNX"),
      el("a", {href: api.modelFileUrl(run.id, "torchscript"), download: "", "data-testid": "download-torchscript",
               title: "The trained network (best checkpoint) for torch.jit.load"}, "TorchScript"),
    ] : []),
    el("span", {class: "tp-link", "aria-live": "polite"}));
}

/** Ask the server whether the run has a checkpoint now, and update the header. */
async function refreshHeader(run) {
  try {
    const meta = await api.getRun(run.id);
    if (view.run === run) renderHeader(run, !!meta.has_checkpoint);
  } catch { /* keep the header as it is */ }
}

async function removeRun(id) {
  try {
    await api.deleteRun(id);
  } catch (err) { controls.showError(`Cannot delete run ${id}: ${errorText(err)}`); return; }
  if (view.compare?.id === id) compareWith(null);
  if (view.run?.id === id) {
    view.stream?.close();
    view.run = null;
    view.stream = null;
    localStorage.removeItem(LAST_RUN_KEY);
    runHeader.replaceChildren();
    progress.reset();
    controls.setRunning(false);
    boundary.clear();
    confusion.clear();
    norms.show(null);
    tryIt.setRun(null);
    gallery.hide();
  }
}

/** Redraw after events; `batch` null means "everything changed" (a replayed run). */
function render(batch) {
  const run = view.run;
  if (!run) return;
  progress.show(run, view.totalEpochs);
  const kinds = new Set((batch || [{type: "step"}, {type: "epoch"}, {type: "boundary"}, {type: "confusion"}, {type: "status"}]).map((e) => e.type));
  if (kinds.has("step") || kinds.has("epoch") || kinds.has("status")) charts.refresh();
  if (kinds.has("epoch")) {
    norms.show(run.lastEpoch);
    refreshHeader(run); // the epochs named on the checkpoint links moved on
  }
  if (kinds.has("boundary") && run.boundary) { boundary.setVisible(true); boundary.setBoundary(run.boundary); }
  if (kinds.has("confusion") && run.confusion) { confusion.setVisible(true); confusion.show(run.confusion); }
  if (batch === null && !run.lastEpoch) norms.show(null);
  // The history shows every run's status word: keep it in step (queued -> running -> final).
  if (kinds.has("status") && batch !== null) history.refresh();
  if (isFinal(run.status)) {
    controls.setRunning(false);
    if (kinds.has("status")) {
      if (batch === null) history.refresh();
      refreshHeader(run);
      const usable = (run.status === "completed" || run.status === "stopped") && tryIt.enabled;
      tryIt.setRun(usable ? {run, dataset: datasetInfo(view.dataset)} : null);
      if (usable) gallery.show(run, datasetInfo(view.dataset));
      else gallery.hide();
    }
  }
}

const datasetInfo = (name) => picker.byName(name);

async function ensurePreview(name) {
  if (!name || previews.has(name)) return;
  try {
    previews.set(name, previewSamples(await api.previewDataset(name)));
  } catch { previews.set(name, null); }
}

/** Show the views that fit the data on screen: the run's dataset, else the picked one. */
function syncDiagnostics() {
  const name = view.run ? view.dataset : picker.info?.name;
  const info = datasetInfo(name);
  const twoD = info ? info.kind === "2d" && info.input_shape.length === 1 && info.input_shape[0] === 2 : false;
  boundary.setVisible(twoD || !!view.run?.boundary);
  const pts = previews.get(name) || (name === picker.info?.name && picker.preview
    ? previewSamples(picker.preview) : null);
  boundary.setPoints(twoD ? pts : null);
  confusion.setVisible((info ? info.task !== "regression" : false) || !!view.run?.confusion);
}

async function compareWith(id) {
  view.compare = null;
  if (id) {
    const other = new RunModel(id);
    other.title = history.runs.find((r) => String(r.id) === String(id))?.title || null;
    try {
      await loadEvents(other);
      view.compare = other;
    } catch (err) { controls.showError(`Cannot compare with run ${id}: ${errorText(err)}`); }
  }
  if (view.run) charts.show(view.run, view.compare);
}

async function restore(id) {
  try {
    const meta = await api.getRun(id);
    if (meta.graph) restoreGraph(meta.graph);
  } catch (err) { controls.showError(`Cannot restore run ${id}: ${errorText(err)}`); }
}

// ---------------------------------------------------------------- start-up

async function start() {
  await connect();
  const [devices, , predictOk] = await Promise.all([api.listDevices(), picker.load(), api.canPredict()]);
  controls.setDevices(devices);
  tryIt.enabled = predictOk;
  const runs = await history.refresh();
  // After a reload, follow the run that is still training; else reopen the last one seen.
  const active = runs.find((r) => r.status === "running" || r.status === "queued");
  const last = localStorage.getItem(LAST_RUN_KEY);
  const pick = active || runs.find((r) => String(r.id) === last);
  if (pick) await openRun(String(pick.id));
  root.dataset.ready = "true";
}

start();
