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

async function request(method, url, { body, text = false, signal } = {}) {
  const init = { method, headers: {}, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (!res.ok) throw await apiError(res);
  if (res.status === 204) return null;
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
  return new ApiError(`${res.status}: ${detail}`, res.status, errors);
}

const enc = encodeURIComponent;

// -- catalogue, validation, export ---------------------------------------------------

export const getCatalog = () => request("GET", "/api/catalog");

export const validateGraph = (graph, signal) =>
  request("POST", "/api/graphs/validate", { body: graph, signal });

export const exportCode = (graph, format) =>
  request("POST", `/api/graphs/export?format=${enc(format)}`, { body: graph, text: true });

/** The template graphs (static files, copies of examples/): `[{name, title, description, graph}]`. */
export async function getTemplates() {
  const index = await request("GET", "/static/templates/index.json");
  return Promise.all(index.templates.map(async (t) => ({
    ...t, graph: await request("GET", `/static/templates/${enc(t.name)}.json`),
  })));
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
