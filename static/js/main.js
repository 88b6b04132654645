/**
 * The editor page: loads the catalogue, builds the palette, canvas, inspector,
 * validation, projects, templates, export and shortcuts, and wires them to the
 * one graph store (graph-state.js). Every user action becomes a store edit; every
 * store change re-renders the canvas and inspector, schedules a validation and
 * autosaves. The training panel (static/js/train/) talks to the same store
 * through graph-state.js's currentGraph / loadGraph / onGraphChange.
 */

import { getCatalog, getProject, listDatasets, saveProject } from "./api.js";
import {
  contextMenu, depth, edit, enterBlock, goToLevel, initBlockScope, makeBlockFromSelection, openBlock, resetScope, runProbe,
  selectionAfter, showBreadcrumb, shownValidation, viewGraph,
} from "./block-scope.js";
import { blockNameOf, isBlockType, nodeEntry } from "./blocks.js";
import { loadBuiltinBlocks, renderBlockPalette } from "./blocks-view.js";
import * as canvas from "./canvas.js";
import { entry, initialParams, setCatalog } from "./catalog.js";
import {
  BLOCK_KINDS, connectionError, copyCells, dependsOn, findNode, needsLayout, parseGraph, serializeGraph,
  setGraphPreparer, sinks, store,
} from "./graph-state.js";
import { createInspector, markOwnEdit as ownEdit, renderInspector } from "./inspector.js";
import { layoutPositions } from "./layout.js";
import { renderPalette } from "./palette.js";
import {
  autosave, createProjectsDialog, downloadText, fileSafe, nameProblem, projectFromUrl, readAutosave, readGraphFile, setUrlProject,
} from "./projects.js";
import { createExportView } from "./export-view.js";
import { installShortcuts, renderHelp } from "./shortcuts.js";
import { createImportView } from "./import-view.js";
import { setXrayInput, xrayNow, xraySection } from "./xray-view.js";
import { createEdgePopover } from "./edge-xray.js";
import { createCostView } from "./cost-view.js";
import { loadTemplates, renderTemplates } from "./templates.js";
import { createValidator } from "./validation-view.js";
import { makeRef, refLabel, refNode } from "./refs.js";

const $ = (sel) => document.querySelector(sel);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

let selection = [];
let validation = null;
let project = null;
let clipboard = null;
let pasteCount = 0;
// The server's copy of the open project (stable JSON), or null when not known: "Saved"
// is shown only while the canvas equals it.
let serverCopy = null;
let builtins = {};

/** JSON with sorted keys, so two copies of one graph compare equal whatever their key order. */
function stableJson(value) {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

const canvasJson = () => stableJson(serializeGraph(store.get()));

function showSaveState() {
  const text = !project ? "Not saved" : serverCopy !== null && canvasJson() === serverCopy ? "Saved" : "Unsaved changes";
  $("#save-state").textContent = text;
}

/** Learn what the server holds for `name` (after opening an autosave), then say whether it matches. */
async function fetchServerCopy(name) {
  try {
    const g = withPositions(await getProject(name));
    if (project === name) serverCopy = stableJson(serializeGraph(g));
  } catch {
    if (project === name) serverCopy = null; // not on the server (any more): unsaved
  }
  showSaveState();
}

// -- feedback ------------------------------------------------------------------------------

function toast(message, level = "info") {
  const box = $("#toasts");
  const div = document.createElement("div");
  div.className = `toast toast-${level}`;
  div.textContent = message;
  box.append(div);
  setTimeout(() => div.remove(), level === "error" ? 6000 : 3000);
}

// -- edits ---------------------------------------------------------------------------------

const layoutSizes = () => ({
  nodeW: canvas.NODE_W, nodeH: canvas.NODE_H, blockW: canvas.BLOCK_W, blockH: canvas.BLOCK_H,
  view: canvas.viewSize(), // long networks wrap into columns that fit this
});

/** Give every node and block a position: lay out when nodes lack one. */
function withPositions(graph) {
  const g = parseGraph(graph);
  if (needsLayout(g)) {
    const pos = layoutPositions(g, { ...layoutSizes(), output: g.output || sinkOf(g) });
    for (const n of g.nodes) n.ui = { ...(n.ui || {}), ...pos[n.id] };
    for (const kind of BLOCK_KINDS) if (g[kind]) g[kind].ui = { ...(g[kind].ui || {}), ...pos[kind] };
  }
  // A block's inside is drawn when opened or expanded: it needs positions too.
  for (const def of Object.values(g.blocks || {})) {
    if (!Array.isArray(def?.nodes) || !needsLayout(def)) continue;
    const pos = layoutPositions({ nodes: def.nodes.map((n) => ({ inputs: [], ...n })) }, { ...layoutSizes(), output: null });
    for (const n of def.nodes) n.ui = { ...(n.ui || {}), ...pos[n.id] };
  }
  let right = Math.max(0, ...g.nodes.map((n) => (n.ui?.x ?? 0) + canvas.NODE_W));
  const top = Math.min(...g.nodes.map((n) => n.ui?.y ?? 0), 1e9);
  for (const kind of BLOCK_KINDS) {
    if (g[kind] && typeof g[kind].ui?.x !== "number") {
      g[kind].ui = { x: right + 40, y: top === 1e9 ? 0 : top };
      right += canvas.BLOCK_W + 40;
    }
  }
  return g;
}

/** The one sink, if there is exactly one. */
function sinkOf(g) {
  const s = sinks(g);
  return s.length === 1 ? s[0] : null;
}

function addFromPalette(type, position) {
  const pos = position || nudge(canvas.viewCentre());
  if (isBlockType(type)) {
    const name = blockNameOf(type);
    try {
      const id = store.apply("addBlockInstance", { name, def: builtins[name] || null, position: pos, scope: openBlock() });
      setSelection([id]);
    } catch (err) {
      toast(err.message, "error");
    }
    return;
  }
  const e = entry(type);
  if (!e) return;
  if (BLOCK_KINDS.includes(e.kind)) {
    if (openBlock()) {
      toast(`The ${e.kind} belongs to the network: go back to it first`, "error");
      return;
    }
    store.apply("setBlock", { kind: e.kind, type, params: initialParams(type), position: pos });
    setSelection([e.kind]);
  } else {
    const id = edit("addNode", { type, params: initialParams(type), position: pos });
    setSelection([id]);
  }
}

/** Keyboard adds land at the centre; shift each so they don't stack exactly. */
function nudge(p) {
  const taken = new Set(viewGraph().nodes.map((n) => `${n.ui?.x},${n.ui?.y}`));
  let q = { ...p };
  while (taken.has(`${q.x},${q.y}`)) q = { x: q.x + 30, y: q.y + 30 };
  return q;
}

/** Connect output reference `src` (an id, or `{node, port}`) to node `dst`. */
function connect(src, dst) {
  const g = viewGraph();
  const srcId = refNode(src);
  if (dst === "loss") {
    if (openBlock()) return;
    store.apply("setOutput", { id: src });
    toast(`${refLabel(src)} is now the output`);
    return;
  }
  if (BLOCK_KINDS.includes(srcId) || BLOCK_KINDS.includes(dst)) return;
  const arity = nodeEntry(g, findNode(g, dst)?.type)?.arity;
  const err = connectionError(g, srcId, dst, arity);
  if (err) {
    toast(err, "error");
    return;
  }
  edit("connect", { src, dst, max: arity ? arity.max : 1 });
}

function removeSelection() {
  const { nodes, edges } = canvas.selectedIds();
  const ids = new Set([...nodes, ...selection]);
  const blocks = [...ids].filter((id) => BLOCK_KINDS.includes(id));
  const layerIds = [...ids].filter((id) => !BLOCK_KINDS.includes(id));
  if (!blocks.length && !layerIds.length && !edges.length) return;
  edit("removeCells", { nodes: layerIds, edges, blocks });
  setSelection([]);
}

function copy() {
  const ids = selection.filter((id) => !BLOCK_KINDS.includes(id));
  if (!ids.length) return false;
  clipboard = copyCells(viewGraph(), ids);
  pasteCount = 0;
  toast(`Copied ${ids.length} layer${ids.length === 1 ? "" : "s"}`);
  return true;
}

function paste() {
  if (!clipboard) return;
  pasteCount += 1;
  const ids = edit("paste", { fragment: clipboard, offset: 40 * pasteCount });
  setSelection(ids);
}

/** Arrow keys move the selected layers and blocks (Shift: further). */
function nudgeSelection(dx, dy) {
  const g = viewGraph();
  const positions = {};
  for (const id of selection) {
    const target = BLOCK_KINDS.includes(id) ? g[id] : findNode(g, id);
    if (target?.ui) positions[id] = { x: target.ui.x + dx, y: target.ui.y + dy };
  }
  if (Object.keys(positions).length) edit("move", { positions }, { coalesce: "nudge" });
}

function layout() {
  const g = viewGraph();
  const positions = layoutPositions(g, { ...layoutSizes(), sizes: canvas.cellSizes(), output: canvas.outputOf(g, shownValidation()) });
  edit("move", { positions }, { reason: "layout" });
  requestAnimationFrame(() => canvas.fitReadable());
}

function setSelection(ids) {
  selection = ids;
  canvas.select(ids);
  renderInspector(viewGraph(), ids.length === 1 ? ids[0] : null, shownValidation());
  showMakeBlock();
}

function showMakeBlock() {
  byTestId("make-block").disabled = !selection.some((id) => !BLOCK_KINDS.includes(id));
}

/** Draw `view` (the network or an open block's inside) with report `v`, keeping a form being typed in. */
function show(view, v, { fit = false } = {}) {
  canvas.render(view, v);
  const typing = byTestId("inspector").contains(document.activeElement);
  if (typing) ownEdit();
  renderInspector(view, selection.length === 1 ? selection[0] : null, v, { force: !typing });
  if (fit) requestAnimationFrame(() => (view.nodes.length ? canvas.fitReadable() : canvas.zoomReset()));
}

// -- opening and saving ------------------------------------------------------------------------

/** Whether a run's graph has the canvas's layers (same ids, types and params). */
function sameNetwork(runGraph, graph) {
  if (!runGraph) return false;
  const key = (g) => JSON.stringify((g.nodes || []).map((n) => [n.id, n.type, n.params || {}, n.inputs || []]));
  return key(runGraph) === key(graph);
}

function openGraph(graph, { name = null, undoable = false } = {}) {
  const g = withPositions(graph);
  resetScope();
  if (name !== project) serverCopy = null;
  project = name;
  byTestId("project-name").value = name || "";
  setUrlProject(name);
  selection = [];
  if (undoable) store.apply("replace", { graph: g }, { reason: "load" });
  else store.reset(g);
  requestAnimationFrame(() => (g.nodes.length ? canvas.fitReadable() : canvas.zoomReset()));
}

async function openProject(name) {
  try {
    openGraph(await getProject(name), { name });
    serverCopy = canvasJson();
    showSaveState();
    toast(`Opened ${name}`);
  } catch (err) {
    toast(`Cannot open ${name}: ${err.message}`, "error");
  }
}

async function save() {
  const input = byTestId("project-name");
  const name = input.value.trim();
  if (!name) {
    input.focus();
    input.setAttribute("aria-invalid", "true");
    toast("Name the project first", "error");
    return;
  }
  const problem = nameProblem(name);
  if (problem) {
    input.focus();
    input.setAttribute("aria-invalid", "true");
    toast(problem, "error");
    return;
  }
  input.setAttribute("aria-invalid", "false");
  try {
    const sent = canvasJson();
    await saveProject(name, serializeGraph(store.get()));
    project = name;
    serverCopy = sent;
    setUrlProject(name);
    autosave(project, serializeGraph(store.get()));
    showSaveState();
    document.title = `${name} · torchcanvas`;
    toast(`Saved ${name}`);
  } catch (err) {
    toast(`Save failed: ${err.message}`, "error");
  }
}

// -- start ---------------------------------------------------------------------------------------

async function start() {
  initTheme();
  initDock();
  setGraphPreparer(withPositions); // loadGraph() from the training panel gets a layout too
  initBlockScope({
    toast,
    selection: () => selection,
    setSelection,
    validation: () => validation,
    show,
    builtins: () => builtins,
    breadcrumb: byTestId("breadcrumb"),
    dialog: $("#block-dialog"),
  });
  // Both requests at once; the built-in blocks are a convenience, the catalogue is needed.
  const builtinsLoaded = loadBuiltinBlocks().catch((err) => {
    toast(`Built-in blocks unavailable: ${err.message}`, "error");
    return {};
  });
  try {
    setCatalog(await getCatalog());
  } catch (err) {
    toast(`Cannot load the catalogue: ${err.message}`, "error");
    return;
  }
  renderPalette({ list: $("#palette-list"), search: byTestId("palette-search"), onAdd: (t) => addFromPalette(t) });
  builtins = await builtinsLoaded;
  const blockPalette = () => renderBlockPalette({
    list: $("#palette-list"), graph: store.get(), builtins, onAdd: (t) => addFromPalette(t), search: byTestId("palette-search"),
    onRemove: (name) => {
      try {
        store.apply("removeBlockDef", { name });
        toast(`Removed block ${name}`);
      } catch (err) {
        toast(err.message, "error");
      }
    },
  });
  blockPalette();

  // The X-ray looks at the open run's weights when its network is the one on the canvas,
  // else at the seed's fresh weights; the inspector's section and the edge popover share it.
  const xrayContext = {
    getGraph: () => serializeGraph(store.get()),
    runId: () => {
      const run = window.__trainPanel?.run;
      const final = ["completed", "stopped", "failed", "diverged", "interrupted"];
      return run && final.includes(run.status) && sameNetwork(run.meta?.graph, store.get()) ? run.id : null;
    },
  };
  const edgePopover = createEdgePopover(xrayContext);

  canvas.createCanvas({
    container: byTestId("canvas"),
    minimap: $("#minimap"),
    on: {
      onEdgeHover: (d, x, y) => edgePopover.show(d, x, y),
      onEdgeLeave: () => edgePopover.hide(),
      onDrop: (type, pos) => addFromPalette(type, pos),
      onConnect: (src, dst, port) => connect(makeRef(src, port), dst),
      onMove: (positions) => edit("move", { positions }),
      onSelect: (ids) => {
        selection = ids;
        renderInspector(viewGraph(), ids.length === 1 ? ids[0] : null, shownValidation());
        showMakeBlock();
      },
      onOpen: enterBlock,
      onContextMenu: contextMenu,
    },
  });

  createInspector(byTestId("inspector"), {
    setParam: (id, name, value, coalesce) => (BLOCK_KINDS.includes(id) ? store.apply.bind(store) : edit)("setParam", { id, name, value }, { coalesce }),
    setOutput: (id) => edit("setOutput", { id }),
    setFrozen: (id, frozen) => edit("setFrozen", { id, frozen }),
    setName: (id, name) => edit("setName", { id, name }),
    // Inside an open block, its own fields (exposed params): a setFields on its definition.
    setBlockFields: (fields) => edit("setFields", { fields }),
    openBlock: enterBlock,
    setExpanded: (id, expanded) => edit("setExpanded", { id, expanded }),
    xray: (id) => (openBlock() ? null : xraySection(id, xrayContext)),
    setInputs: (id, inputs) => edit("setInputs", { id, inputs }),
    connect,
    wouldCycle: (src, dst) => dependsOn(viewGraph(), src, dst),
    setFields: (fields) => store.apply("setFields", { fields }),
    setBlock: (kind, type) => store.apply("setBlock", { kind, type, params: initialParams(type) }),
    rename: (id, to) => {
      try {
        edit("renameNode", { id, to });
        setSelection([to]);
      } catch (err) {
        toast(err.message, "error");
        renderInspector(viewGraph(), id, shownValidation());
      }
    },
    remove: (ids) => {
      edit("removeCells", { nodes: ids });
      setSelection([]);
    },
    removeBlock: (kind) => {
      store.apply("removeCells", { blocks: [kind] });
      setSelection([]);
    },
    refresh: () => renderInspector(viewGraph(), selection.length === 1 ? selection[0] : null, shownValidation()),
  });

  const costView = createCostView({ total: byTestId("total-cost"), setCost: canvas.setCost });
  // Try it's "X-ray this": look inside the network for the user's own input, at the
  // selected layer (or the output when none is selected).
  window.addEventListener("tc-xray-input", (e) => {
    setXrayInput(e.detail.input);
    const g = store.get();
    const layer = selection.length === 1 && findNode(g, selection[0]) ? selection[0] : canvas.outputOf(g, validation);
    if (!layer) return;
    setSelection([layer]);
    canvas.reveal(layer);
    xrayNow();
  });

  const validator = createValidator({
    summary: byTestId("validation"),
    list: $("#problems"),
    onResult: (v) => {
      validation = v;
      if (openBlock()) {
        runProbe(); // the open block's shapes follow its instance's inputs
        return;
      }
      costView.update(serializeGraph(store.get()), !!v.valid);
      // Rebuild the inspector (inferred sizes may now be known) unless the user is typing in it.
      show(store.get(), v);
    },
    onPick: (id) => {
      if (openBlock()) goToLevel(0); // the report names the network's nodes
      setSelection([id]);
      canvas.reveal(id);
    },
  });

  store.subscribe((g, { reason }) => {
    const view = viewGraph();
    selection = selectionAfter(reason, view, selection).filter((id) => (BLOCK_KINDS.includes(id) ? view[id] : findNode(view, id)));
    canvas.render(view, shownValidation());
    canvas.select(selection);
    renderInspector(view, selection.length === 1 ? selection[0] : null, shownValidation());
    showMakeBlock();
    showBreadcrumb();
    blockPalette();
    validator.schedule(serializeGraph(g));
    autosave(project, serializeGraph(g));
    byTestId("undo").disabled = !store.canUndo();
    byTestId("redo").disabled = !store.canRedo();
    showSaveState();
    document.title = `${project || g.name || "Net"} · torchcanvas`;
  });

  const projects = createProjectsDialog({
    dialog: $("#projects-dialog"),
    list: byTestId("projects"),
    onOpen: openProject,
    onRenamed: (from, to) => {
      if (project === from) {
        project = to;
        byTestId("project-name").value = to;
        setUrlProject(to);
        showSaveState();
      }
    },
    onDeleted: (name) => {
      if (project === name) {
        project = null;
        serverCopy = null;
        setUrlProject(null);
        showSaveState();
      }
    },
    toast,
  });

  const exportView = createExportView({
    dialog: $("#export-dialog"),
    code: byTestId("code"),
    tabs: [...document.querySelectorAll("#export-dialog [role=tab]")],
    copyBtn: byTestId("copy-code"),
    downloadBtn: byTestId("download-code"),
    modelFormat: byTestId("model-format"),
    modelBtn: byTestId("download-model"),
    status: $("#export-status"),
    getGraph: () => serializeGraph(store.get()),
    toast,
  });

  let templates = [];
  try {
    templates = await loadTemplates();
  } catch (err) {
    toast(`Templates unavailable: ${err.message}`, "error");
  }
  // Which datasets this server cannot read now (MNIST offline), to mark their templates.
  const unavailable = {};
  try {
    for (const d of await listDatasets()) if (d.available === false) unavailable[d.name] = d.how_to_get;
  } catch {
    /* the list is a hint only */
  }
  renderTemplates({
    list: byTestId("templates"),
    templates,
    unavailable,
    onPick: (t) => {
      $("#templates-dialog").close();
      openGraph(t.graph, { undoable: true });
      toast(`Template: ${t.title}`);
    },
  });

  const commands = {
    undo: () => store.undo(),
    redo: () => store.redo(),
    copy,
    cut: () => copy() && removeSelection(),
    paste,
    duplicate: () => copy() && paste(),
    delete: removeSelection,
    selectAll: () => {
      canvas.selectAll();
      selection = canvas.selectedIds().nodes;
      renderInspector(viewGraph(), null, shownValidation());
      showMakeBlock();
    },
    // Escape clears the selection; with none, it leaves the open block.
    escape: () => (selection.length || !depth() ? setSelection([]) : goToLevel(depth() - 1)),
    makeBlock: makeBlockFromSelection,
    left: () => nudgeSelection(-10, 0),
    right: () => nudgeSelection(10, 0),
    up: () => nudgeSelection(0, -10),
    down: () => nudgeSelection(0, 10),
    farLeft: () => nudgeSelection(-50, 0),
    farRight: () => nudgeSelection(50, 0),
    farUp: () => nudgeSelection(0, -50),
    farDown: () => nudgeSelection(0, 50),
    layout,
    fit: () => canvas.fit(),
    zoomIn: canvas.zoomIn,
    zoomOut: canvas.zoomOut,
    zoomReset: canvas.zoomReset,
    save,
    export: () => exportView.open(),
    search: () => byTestId("palette-search").focus(),
    help: () => $("#help-dialog").showModal(),
  };
  installShortcuts(commands);
  renderHelp($("#help-list"));

  const click = (testid, fn) => byTestId(testid).addEventListener("click", fn);
  click("undo", commands.undo);
  click("redo", commands.redo);
  click("layout", layout);
  click("make-block", makeBlockFromSelection);
  click("fit", commands.fit);
  click("zoom-in", commands.zoomIn);
  click("zoom-out", commands.zoomOut);
  click("export", commands.export);
  click("help", commands.help);
  click("project-save", save);
  click("projects-button", () => projects.show());
  const importView = createImportView({
    zooSelect: byTestId("zoo-model"),
    zooButton: byTestId("zoo-import"),
    onnxInput: byTestId("onnx-file"),
    onnxButton: byTestId("onnx-import"),
    status: byTestId("import-status"),
    weightsInput: byTestId("weights-file"),
    weightsButton: byTestId("weights-upload"),
    weightsStatus: byTestId("weights-status"),
    currentGraph: () => serializeGraph(store.get()),
    onWeights: (path) => store.apply("setStartWeights", { path }),
    onGraph: (graph, label, report) => {
      $("#templates-dialog").close();
      // The import's own report: the first render already shows every shape, and the
      // 200 ms debounce plus a second validation of hundreds of nodes is skipped.
      if (report) validation = report;
      openGraph(graph, { undoable: true });
      if (report) validator.accept(report);
      toast(`Imported ${label}: ${graph.nodes.length} nodes`);
    },
  });
  click("templates-button", () => {
    $("#templates-dialog").showModal();
    importView.fillZoo();
  });
  click("new", () => {
    openGraph({ version: 1, name: "Net", nodes: [], output: null }, { undoable: true });
  });
  click("download-json", () => {
    const g = serializeGraph(store.get());
    downloadText(`${fileSafe(project || g.name)}.json`, `${JSON.stringify(g, null, 2)}\n`);
  });
  const upload = byTestId("upload-json");
  click("open-json", () => upload.click());
  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    upload.value = "";
    if (!file) return;
    try {
      openGraph(await readGraphFile(file), { undoable: true });
      toast(`Opened ${file.name}`);
    } catch (err) {
      toast(`Cannot open ${file.name}: ${err.message}`, "error");
    }
  });
  byTestId("project-name").addEventListener("keydown", (e) => {
    if (e.key === "Enter") save();
  });
  for (const d of document.querySelectorAll("dialog")) {
    d.addEventListener("click", (e) => {
      if (e.target === d) d.close(); // a click on the backdrop closes
    });
  }

  // What to show first: the autosave (same project, or any when the URL names none: never
  // lose an edit to a template), else the named project, else a template.
  const named = projectFromUrl();
  const saved = readAutosave();
  if (saved && ((saved.project || null) === named || !named)) {
    openGraph(saved.graph, { name: saved.project || null });
    if (saved.project) fetchServerCopy(saved.project);
  } else if (named) {
    await openProject(named);
  } else {
    const first = templates.find((t) => t.name === "seed_cnn") || templates[0];
    openGraph(first ? first.graph : { version: 1, nodes: [] });
  }
  document.body.dataset.ready = "true";
}

// -- theme and dock ------------------------------------------------------------------------------

function initTheme() {
  const root = document.documentElement;
  const stored = localStorage.getItem("torchcanvas:theme");
  if (stored) root.dataset.theme = stored;
  byTestId("theme").addEventListener("click", () => {
    const dark = root.dataset.theme
      ? root.dataset.theme === "dark"
      : matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("torchcanvas:theme", root.dataset.theme);
  });
}

function initDock() {
  const handle = $("#dock-handle");
  const root = document.documentElement;
  // The training view sits on the right; its width is the user's (kept across reloads),
  // never so wide that the canvas drops below a usable 360 px.
  const setWidth = (px) => {
    const w = Math.max(320, Math.min(window.innerWidth - 180 - 260 - 360, px));
    root.style.setProperty("--dock-w", `${w}px`);
    handle.setAttribute("aria-valuenow", String(Math.round(w)));
    localStorage.setItem("torchcanvas:dock-w", String(w));
  };
  const stored = Number(localStorage.getItem("torchcanvas:dock-w"));
  if (stored) setWidth(stored);
  const toggle = byTestId("toggle-dock");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    $("#dock").classList.toggle("collapsed", open);
  });
  handle.addEventListener("pointerdown", (e) => {
    handle.setPointerCapture(e.pointerId);
    const move = (ev) => setWidth(window.innerWidth - ev.clientX);
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", () => handle.removeEventListener("pointermove", move), { once: true });
  });
  handle.addEventListener("keydown", (e) => {
    const cur = $("#dock").getBoundingClientRect().width;
    if (e.key === "ArrowLeft") setWidth(cur + 24);
    if (e.key === "ArrowRight") setWidth(cur - 24);
  });
}

start();
