/**
 * Server calls of the training panel: datasets, uploads, runs and the run websocket.
 *
 * Every request the panel makes goes through here, so the UI modules never
 * build URLs or parse HTTP errors themselves. Errors are thrown as `ApiError`
 * carrying the server's own message, because the panel shows it verbatim.
 */

export class ApiError extends Error {
  constructor(status, message, body, retryAfter) {
    super(message);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/** Turn FastAPI's error bodies (`detail` as text, list or object) into one readable line. */
export function errorMessage(body, fallback) {
  const detail = body && typeof body === "object" && "detail" in body ? body.detail : body;
  if (!detail) return fallback;
  if (typeof detail === "string") {
    // Our server adds `errors` naming the node or component at fault: show them too.
    const errors = Array.isArray(body?.errors) ? body.errors.filter((e) => e && e.message && e.message !== detail) : [];
    return errors.length ? `${detail}: ${errorMessage({detail: errors}, "")}` : detail;
  }
  if (Array.isArray(detail)) {
    return detail.map((d) => (typeof d === "string" ? d
      : d.message ? (d.node || d.component ? `${d.node || d.component}: ${d.message}` : d.message)
        : `${(d.loc || []).slice(1).join(".")}: ${d.msg}`)).join("; ");
  }
  if (detail.message) return detail.message;
  if (Array.isArray(detail.errors)) return errorMessage({detail: detail.errors}, fallback);
  return JSON.stringify(detail);
}

async function request(method, url, body) {
  const init = {method, headers: {}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch { /* plain text answer */ }
  if (!res.ok) {
    const retry = Number(res.headers.get("Retry-After")) || undefined;
    throw new ApiError(res.status, errorMessage(data, `${res.status} ${res.statusText}`), data, retry);
  }
  return data;
}

const enc = encodeURIComponent;

/**
 * Built-in datasets and uploads as one list. An upload is used through a
 * registry dataset (`csv`, `imagefolder`) with its own params, so each entry
 * says which `dataset` and `params` to put in the graph.
 */
export async function listDatasets() {
  const answer = await request("GET", "/api/datasets");
  if (Array.isArray(answer)) return answer.map((d) => ({dataset: d.name, params: {}, ...d}));
  const builtins = (answer.datasets || []).map((d) => ({...d, dataset: d.name, params: {}}));
  const uploads = (answer.uploads || []).map(uploadEntry);
  return [...builtins, ...uploads];
}

/** An uploaded dataset (the POST /api/datasets answer) as a picker entry. */
export function uploadEntry(u) {
  return {...(u.info || {}), name: u.name, dataset: u.dataset, params: u.params || {}, upload: true,
    description: u.info?.description || `Uploaded ${u.kind === "images" ? "images" : "CSV"}`};
}
export const previewDataset = (name) => request("GET", `/api/datasets/${enc(name)}/preview`);
export const createRun = (graph) => request("POST", "/api/runs", graph);
export const listRuns = () => request("GET", "/api/runs");
export const getRun = (id) => request("GET", `/api/runs/${enc(id)}`);
export const runEvents = (id, after = -1) =>
  request("GET", `/api/runs/${enc(id)}/events?after=${after}`);
export const stopRun = (id) => request("POST", `/api/runs/${enc(id)}/stop`);
export const deleteRun = (id) => request("DELETE", `/api/runs/${enc(id)}`);
export const predict = (id, input) => request("POST", `/api/runs/${enc(id)}/predict`, {input});

/** Whether the server offers predictions, read from its OpenAPI description (no probing requests). */
export async function canPredict() {
  try {
    const spec = await request("GET", "/openapi.json");
    return Object.keys(spec.paths || {}).some((p) => /^\/api\/runs\/\{[^}]+\}\/predict$/.test(p));
  } catch { return false; }
}
export const checkpointUrl = (id) => `/api/runs/${enc(id)}/checkpoint`;
export const codeUrl = (id) => `/api/runs/${enc(id)}/code`;

/** What devices the server can train on; older servers do not say, so fall back to auto/cpu. */
export async function listDevices() {
  try {
    const catalog = await request("GET", "/api/catalog");
    const devices = catalog && (catalog.devices || (catalog.training && catalog.training.devices));
    if (Array.isArray(devices) && devices.length) return devices.includes("auto") ? devices : ["auto", ...devices];
  } catch { /* the picker still works with the defaults */ }
  return ["auto", "cpu"];
}

/**
 * Upload a CSV or zip with progress. `fetch` cannot report upload progress,
 * hence XMLHttpRequest. `onProgress(fraction)` gets 0..1.
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
      let data = xhr.responseText;
      try { data = JSON.parse(xhr.responseText); } catch { /* keep the text */ }
      if (xhr.status >= 200 && xhr.status < 300) { onProgress?.(1); resolve(data); }
      else reject(new ApiError(xhr.status, errorMessage(data, `upload refused (${xhr.status})`), data));
    };
    xhr.onerror = () => reject(new ApiError(0, "the upload failed: the server could not be reached"));
    xhr.send(form);
  });
}

/** Open the event websocket of a run, resuming after `after` (the last seq already seen). */
export function openRunSocket(id, after) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = after >= 0 ? `?after=${after}` : "";
  return new WebSocket(`${scheme}://${location.host}/ws/runs/${enc(id)}${query}`);
}

export const validateGraph = (graph) => request("POST", "/api/graphs/validate", graph);
