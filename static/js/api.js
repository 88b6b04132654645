/**
 * Every call the page makes to the server, in one place (REST; see issue 4 and /docs).
 *
 * Functions return parsed JSON (or text for code export) and throw `ApiError`
 * with the server's message, status and, for 422s, its `{node, param, message}`
 * errors, so callers can show exactly what the server said.
 */

export class ApiError extends Error {
  constructor(message, status, errors = []) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

async function request(method, url, { body, text = false, blob = false, signal } = {}) {
  const init = { method, headers: {}, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (!res.ok) throw await apiError(res);
  if (res.status === 204) return null;
  if (blob) return res.blob();
  return text ? res.text() : res.json();
}

async function apiError(res) {
  let detail = res.statusText;
  let errors = [];
  try {
    const data = await res.json();
    const d = data.detail ?? data;
    if (typeof d === "string") {
      detail = d;
      errors = data.errors || [];
    }
    else if (Array.isArray(d)) {
      errors = d.map((e) => ({ node: e.node ?? null, param: e.param ?? null, message: e.message ?? e.msg ?? String(e) }));
      detail = errors.map((e) => e.message).join("; ");
    } else if (d && typeof d === "object") {
      errors = d.errors || [];
      detail = d.message || errors.map((e) => e.message).join("; ") || JSON.stringify(d);
    }
  } catch {
    /* not JSON: keep the status text */
  }
  // A pattern is for programs, not people: never show the raw regular expression.
  detail = String(detail).replace(/String should match pattern '[^']*'/g, "has characters that are not allowed");
  return new ApiError(`${res.status}: ${detail}`, res.status, errors);
}

const enc = encodeURIComponent;

// -- catalogue, validation, export ---------------------------------------------------

/**
 * GET /api/catalog, asked once per page: the editor and the training panel share
 * the answer (read-only). A failed request is forgotten, so a later call retries.
 */
let catalogRequest = null;
export function getCatalog() {
  catalogRequest ||= request("GET", "/api/catalog").catch((err) => {
    catalogRequest = null;
    throw err;
  });
  return catalogRequest;
}

export const validateGraph = (graph, signal) =>
  request("POST", "/api/graphs/validate", { body: graph, signal });

export const exportCode = (graph, format) =>
  request("POST", `/api/graphs/export?format=${enc(format)}`, { body: graph, text: true });

/** An ONNX, TorchScript or exported-program file for the graph (fresh weights), as a Blob. */
export const exportModelFile = (graph, format) =>
  request("POST", `/api/graphs/export?format=${enc(format)}`, { body: graph, blob: true });

// -- X-ray -----------------------------------------------------------------------------
// `input`: one sample of the user's own (Try it) instead of dataset sample `sample`.
export const inspectGraph = (graph, sample = 0, timing = false, input = null) =>
  request("POST", "/api/graphs/inspect", { body: { graph, sample, timing, input } });
/** `epoch` (a number) picks the weights kept after that epoch instead of `which`. */
export const inspectRun = (id, sample = 0, which = "best", timing = false, { epoch = null, input = null } = {}) =>
  request("POST", `/api/runs/${enc(id)}/inspect`, { body: { sample, which, timing, epoch, input } });
/** The weights a run kept: {epochs: [0, 1, ...], best: epoch|null, last: epoch|null}. */
export const runCheckpoints = (id) => request("GET", `/api/runs/${enc(id)}/checkpoints`);
/** FLOPs/MACs per node for one sample, activation and training memory for the batch. */
export const graphCost = (graph, signal) => request("POST", "/api/graphs/cost", { body: { graph }, signal });

/** The pre-flight doctor: {findings, lr_curve, suggested_lr, current_lr, overfit, init}. */
export const doctor = (graph) => request("POST", "/api/graphs/doctor", { body: { graph } });

// -- import ------------------------------------------------------------------------------
export const listZoo = () => request("GET", "/api/import/zoo");
export const importZoo = (name) => request("POST", `/api/import/zoo/${enc(name)}`);
/** An ONNX file from the user's computer: `{graph}`, or ApiError naming what does not map. */
export async function importOnnx(file) {
  const body = new FormData();
  body.append("file", file, file.name);
  const res = await fetch("/api/import/onnx", { method: "POST", body });
  if (!res.ok) throw await apiError(res);
  return res.json();
}

/** A `.pt` state_dict for the graph's init.weights: `{path, file, tensors, parameters, fit}`. */
export async function uploadWeights(file, graph) {
  const body = new FormData();
  body.append("file", file, file.name);
  if (graph) body.append("graph", JSON.stringify(graph));
  const res = await fetch("/api/weights", { method: "POST", body });
  if (!res.ok) throw await apiError(res);
  return res.json();
}

/** The template graphs (static files, copies of examples/): `[{name, title, description, graph}]`. */
export async function getTemplates() {
  return request("GET", "/api/examples");
}

// -- projects ----------------------------------------------------------------------------

/** `[{name, updated}]`, newest first as the server sorts them. */
export async function listProjects() {
  const data = await request("GET", "/api/projects");
  return Array.isArray(data) ? data : data.projects || [];
}

/** The saved graph v1 document. */
export async function getProject(name) {
  const data = await request("GET", `/api/projects/${enc(name)}`);
  return data && data.graph ? data.graph : data;
}

export const saveProject = (name, graph) =>
  request("PUT", `/api/projects/${enc(name)}`, { body: graph });

export const deleteProject = (name) => request("DELETE", `/api/projects/${enc(name)}`);

export const renameProject = (name, to) =>
  request("POST", `/api/projects/${enc(name)}/rename`, { body: { name: to } });

// -- training panel (static/js/train/) may append its calls below this line -----------

// Datasets, uploads, runs and the run websocket, for the training panel.

/**
 * Built-in datasets and uploads as one list of picker entries. An upload is
 * trained through a registry dataset (`csv`, `imagefolder`) with its own
 * params, so each entry says which `dataset` and `params` go in the graph.
 */
export async function listDatasets() {
  const answer = await request("GET", "/api/datasets");
  if (Array.isArray(answer)) return answer.map((d) => ({ dataset: d.name, params: {}, ...d }));
  // `params` of an entry is what goes in the graph; the catalogue's params schema stays as `schema`.
  const builtins = (answer.datasets || []).map((d) => ({ ...d, dataset: d.name, params: {}, schema: d.params }));
  return [...builtins, ...(answer.uploads || []).map(uploadEntry)];
}

/** An uploaded dataset (as POST /api/datasets answers) as a picker entry. */
export function uploadEntry(u) {
  return {
    ...(u.info || {}), name: u.name, dataset: u.dataset, params: u.params || {}, upload: true,
    description: u.info?.description || `Uploaded ${u.kind === "images" ? "images" : "CSV"}`,
  };
}

export const previewDataset = (name) => request("GET", `/api/datasets/${enc(name)}/preview`);

/**
 * Upload a CSV (with its label column) or a zip of class folders. `fetch`
 * cannot report upload progress, hence XMLHttpRequest; `onProgress` gets 0..1.
 */
export function uploadDataset(file, fields, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [key, value] of Object.entries(fields || {})) {
      if (value !== undefined && value !== null && value !== "") form.append(key, value);
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/datasets");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress?.(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve(JSON.parse(xhr.responseText));
        return;
      }
      // Same reading of the error body as `apiError`, from the XHR's text.
      apiError(new Response(xhr.responseText, { status: xhr.status, statusText: xhr.statusText }))
        .then(reject, () => reject(new ApiError(`${xhr.status}: upload refused`, xhr.status)));
    };
    xhr.onerror = () => reject(new ApiError("the upload failed: the server could not be reached", 0));
    xhr.send(form);
  });
}

/** Start a run; `project` (the editor's open project) names and groups it in the history. */
export const createRun = (graph, project = null) =>
  request("POST", `/api/runs${project ? `?project=${enc(project)}` : ""}`, { body: graph });
export const renameRun = (id, label) => request("PATCH", `/api/runs/${enc(id)}`, { body: { label } });
export const listRuns = () => request("GET", "/api/runs");
export const getRun = (id) => request("GET", `/api/runs/${enc(id)}`);
export const runEvents = (id, after = -1) => request("GET", `/api/runs/${enc(id)}/events?after=${after}`);
export const stopRun = (id) => request("POST", `/api/runs/${enc(id)}/stop`);
export const deleteRun = (id) => request("DELETE", `/api/runs/${enc(id)}`);
export const checkpointUrl = (id, which = "best") => `/api/runs/${enc(id)}/checkpoint?which=${which}`;
export const codeUrl = (id) => `/api/runs/${enc(id)}/code`;
/** A finished run's trained network as a deployment file (onnx, torchscript, exported-program). */
export const modelFileUrl = (id, format, which = "best") =>
  `/api/runs/${enc(id)}/model?format=${enc(format)}&which=${enc(which)}`;
export const predict = (id, input, options = {}) => request("POST", `/api/runs/${enc(id)}/predict`, { body: { input, ...options } });
/** The first `n` validation samples of a run's split with the model's class probabilities. */
export const getSamples = (id, n = 16) => request("GET", `/api/runs/${enc(id)}/samples?n=${n}`);

/** Whether the server offers predictions, read from its OpenAPI description (no probing). */
export async function canPredict() {
  try {
    const spec = await request("GET", "/openapi.json");
    return Object.keys(spec.paths || {}).some((p) => /^\/api\/runs\/\{[^}]+\}\/predict$/.test(p));
  } catch {
    return false;
  }
}

/** Devices the server can train on; a server that does not say gets auto and cpu. */
export async function listDevices() {
  try {
    const catalog = await getCatalog();
    const devices = catalog?.devices || catalog?.training?.devices;
    if (Array.isArray(devices) && devices.length) return devices.includes("auto") ? devices : ["auto", ...devices];
  } catch {
    /* the picker still works with the defaults */
  }
  return ["auto", "cpu"];
}

/** The event websocket of a run, resuming after `after` (the last seq already applied). */
export function openRunSocket(id, after) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = after >= 0 ? `?after=${after}` : "";
  return new WebSocket(`${scheme}://${location.host}/ws/runs/${enc(id)}${query}`);
}
