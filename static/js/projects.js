/**
 * Saving and opening: server projects, the URL, JSON files and the localStorage autosave.
 *
 * The open project's name is in the URL (`?project=name`), so a link or a reload
 * reopens it. Every change is also written to localStorage; on start the
 * autosave wins over the server copy when it belongs to the same project (or to
 * no project), so a reload never loses unsaved work.
 */

import { deleteProject, listProjects, renameProject } from "./api.js";
import { parseGraph } from "./graph-state.js";

const AUTOSAVE_KEY = "torchcanvas:autosave";

export function projectFromUrl() {
  return new URLSearchParams(location.search).get("project") || null;
}

export function setUrlProject(name) {
  const url = new URL(location.href);
  if (name) url.searchParams.set("project", name);
  else url.searchParams.delete("project");
  history.replaceState(null, "", url);
}

// -- autosave ----------------------------------------------------------------------------

let autosaveTimer = null;
export function autosave(project, graph) {
  clearTimeout(autosaveTimer);
  autosaveTimer = setTimeout(() => {
    try {
      localStorage.setItem(AUTOSAVE_KEY, JSON.stringify({ project, graph, at: Date.now() }));
    } catch {
      /* storage full or disabled: the server copy still works */
    }
  }, 150);
}

export function readAutosave() {
  try {
    const data = JSON.parse(localStorage.getItem(AUTOSAVE_KEY) || "null");
    return data && data.graph ? data : null;
  } catch {
    return null;
  }
}

// -- the projects dialog ----------------------------------------------------------------

export function createProjectsDialog({ dialog, list, onOpen, onRenamed, onDeleted, toast }) {
  async function refresh() {
    list.replaceChildren();
    let projects;
    try {
      projects = await listProjects();
    } catch (err) {
      toast(`Cannot list projects: ${err.message}`, "error");
      return;
    }
    if (!projects.length) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = "No saved projects yet. Name the network at the top and press Save.";
      list.append(li);
    }
    for (const p of projects) list.append(rowFor(p));
  }

  function rowFor(p) {
    const li = document.createElement("li");
    li.dataset.testid = `project-${p.name}`;
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link project-open";
    open.textContent = p.name;
    open.dataset.testid = `project-open-${p.name}`;
    open.addEventListener("click", async () => {
      dialog.close();
      await onOpen(p.name);
    });
    const when = document.createElement("time");
    const updated = typeof p.updated === "number" ? new Date(p.updated * 1000) : new Date(p.updated);
    if (!Number.isNaN(updated.getTime())) {
      when.dateTime = updated.toISOString();
      when.textContent = updated.toLocaleString();
    }
    const rename = smallButton("Rename", `Rename ${p.name}`, () => startRename(li, p.name));
    const del = smallButton("Delete", `Delete ${p.name}`, async () => {
      if (!confirm(`Delete the project “${p.name}”? This cannot be undone.`)) return;
      try {
        await deleteProject(p.name);
        onDeleted(p.name);
        await refresh();
      } catch (err) {
        toast(`Delete failed: ${err.message}`, "error");
      }
    });
    li.append(open, when, rename, del);
    return li;
  }

  function startRename(li, name) {
    const input = document.createElement("input");
    input.type = "text";
    input.value = name;
    input.setAttribute("aria-label", `New name for ${name}`);
    li.replaceChildren(input);
    input.focus();
    input.select();
    input.addEventListener("keydown", async (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        await refresh();
      }
      if (e.key !== "Enter") return;
      const to = input.value.trim();
      if (!to || to === name) return refresh();
      const problem = nameProblem(to);
      if (problem) {
        input.setAttribute("aria-invalid", "true");
        toast(problem, "error");
        return;
      }
      try {
        await renameProject(name, to);
        onRenamed(name, to);
      } catch (err) {
        toast(`Rename failed: ${err.message}`, "error");
      }
      await refresh();
    });
  }

  return {
    async show() {
      await refresh();
      if (!dialog.open) dialog.showModal();
    },
    refresh,
  };
}

function smallButton(text, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

// -- JSON files ----------------------------------------------------------------------------

export function downloadText(filename, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function readGraphFile(file) {
  const text = await file.text();
  return parseGraph(text);
}

/**
 * Why a project name cannot be used, or null. The same rule as the server's
 * (server/app/schemas.py NAME), said in words instead of a pattern.
 */
export function nameProblem(name) {
  if (/^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}$/.test(name)) return null;
  if (name.length > 64) return "A project name has at most 64 characters.";
  const bad = [...new Set(name.replace(/[A-Za-z0-9_ .-]/g, ""))].join(" ");
  return `A project name may use letters, digits, spaces, "_", "-" and "." (and starts with a letter, digit or "_")${
    bad ? `; not ${bad}` : ""}.`;
}

export const fileSafe = (name) => (name || "graph").replace(/[^A-Za-z0-9_.-]+/g, "_");
