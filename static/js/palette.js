/**
 * The palette: every catalogue entry, grouped by category, searchable.
 *
 * Items are dragged onto the canvas (HTML drag and drop), or added at the view's
 * centre with Enter, so the palette works from the keyboard too. Each item's
 * description is its tooltip and its accessible description.
 */

import { categoryColor, paletteGroups } from "./catalog.js";
import { startDrag } from "./canvas.js";

export function renderPalette({ list, search, onAdd }) {
  list.replaceChildren();
  for (const [category, items] of paletteGroups()) {
    const group = document.createElement("section");
    group.className = "palette-group";
    group.dataset.category = category;
    const head = document.createElement("h3");
    head.textContent = category;
    head.style.setProperty("--cat", categoryColor(category));
    const ul = document.createElement("ul");
    ul.setAttribute("aria-label", `${category} ${items[0]?.kind === "layer" ? "layers" : "blocks"}`);
    for (const e of items) {
      const li = document.createElement("li");
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "palette-item";
      btn.draggable = true;
      btn.dataset.testid = `palette-${e.type}`;
      btn.dataset.type = e.type;
      // Other names (`dense`, `fc`, ...) come from the catalogue's aliases.
      btn.dataset.search = `${e.type} ${(e.aliases || []).join(" ")} ${category} ${e.description}`.toLowerCase();
      btn.style.setProperty("--cat", categoryColor(category));
      btn.title = e.description;
      btn.setAttribute("aria-description", e.description);
      btn.textContent = e.type;
      btn.addEventListener("dragstart", (ev) => startDrag(ev, e.type));
      btn.addEventListener("click", () => onAdd(e.type));
      li.append(btn);
      ul.append(li);
    }
    group.append(head, ul);
    list.append(group);
  }
  search.addEventListener("input", () => filter(list, search.value));
  search.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      const first = list.querySelector(".palette-item:not([hidden])");
      if (first) onAdd(first.dataset.type);
    }
  });
}

function filter(list, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  for (const group of list.querySelectorAll(".palette-group")) {
    let shown = 0;
    for (const btn of group.querySelectorAll(".palette-item")) {
      const hit = words.every((w) => btn.dataset.search.includes(w));
      btn.parentElement.hidden = !hit;
      btn.hidden = !hit;
      shown += hit ? 1 : 0;
    }
    group.hidden = shown === 0;
  }
}
