/**
 * The templates picker: example networks to start from.
 *
 * The graphs are the project's `examples/*.json`, served by GET /api/examples
 * with a title and a line of description from examples/templates.toml; a template
 * opens as a new, unsaved network.
 */

import { getTemplates } from "./api.js";

export async function loadTemplates() {
  return (await getTemplates()).map((t) => ({ ...t, title: t.title || t.name.replace(/_/g, " ") }));
}

/**
 * `unavailable`: dataset name -> how to get it, for datasets this server cannot read now
 * (MNIST offline); a template that trains on one says so before it is picked.
 */
export function renderTemplates({ list, templates, onPick, unavailable = {} }) {
  list.replaceChildren(...templates.map((t) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "template";
    b.dataset.testid = `template-${t.name}`;
    const strong = document.createElement("strong");
    strong.textContent = t.title;
    const p = document.createElement("span");
    p.textContent = t.description || `${t.graph?.nodes?.length ?? "?"} layers`;
    b.append(strong, p);
    const missing = t.graph?.data?.dataset;
    if (missing && unavailable[missing]) {
      const note = document.createElement("span");
      note.className = "template-missing";
      note.textContent = `${missing} is not downloaded here`;
      b.title = unavailable[missing];
      b.append(note);
    }
    b.addEventListener("click", () => onPick(t));
    li.append(b);
    return li;
  }));
}
