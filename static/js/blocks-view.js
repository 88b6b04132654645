/**
 * The page's block controls: the palette's "blocks" group (the graph's own blocks, then
 * the built-in ones of static/blocks/builtin.json), the breadcrumb shown while a block is
 * open ("Net › BasicBlock"), the dialog that asks a new block's name, and the canvas's
 * right-click menu. DOM only: what they do comes from main.js as callbacks.
 */

import { startDrag } from "./canvas.js";
import { categoryColor } from "./catalog.js";
import { NAME_RE } from "./blocks.js";

const BUILTIN_URL = "/static/blocks/builtin.json";

/** The built-in block definitions, by name ({} when the file cannot be read). */
export async function loadBuiltinBlocks() {
  const res = await fetch(BUILTIN_URL);
  if (!res.ok) throw new Error(`${BUILTIN_URL}: HTTP ${res.status}`);
  return (await res.json()).blocks || {};
}

/**
 * (Re)draw the palette's blocks group at the top of `list`: one draggable item per block,
 * `palette-block:<name>`; right-click one of the network's own to remove it (`onRemove`).
 * Redrawn only when the names change, so a drag is never cut off.
 */
export function renderBlockPalette({ list, graph, builtins, onAdd, onRemove, search }) {
  const own = Object.keys(graph.blocks || {});
  const extra = Object.keys(builtins).filter((n) => !own.includes(n));
  const key = JSON.stringify([own, extra]);
  let group = list.querySelector(".palette-group[data-category=blocks]");
  if (group?.dataset.key === key) return;
  if (!group) {
    group = document.createElement("section");
    group.className = "palette-group";
    group.dataset.category = "blocks";
    list.prepend(group);
  }
  group.dataset.key = key;
  const head = document.createElement("h3");
  head.textContent = "blocks";
  head.style.setProperty("--cat", categoryColor("block"));
  const ul = document.createElement("ul");
  ul.setAttribute("aria-label", "Blocks: this network's and the built-in ones");
  for (const [name, builtin] of [...own.map((n) => [n, false]), ...extra.map((n) => [n, true])]) {
    const def = builtin ? builtins[name] : graph.blocks[name];
    const type = `block:${name}`;
    const li = document.createElement("li");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = `palette-item palette-block${builtin ? " is-builtin" : ""}`;
    btn.draggable = true;
    btn.dataset.testid = `palette-${type}`;
    btn.dataset.type = type;
    const text = def?.description || `${name}: ${(def?.nodes || []).length} nodes`;
    // Found by name (and "block"), not by description: "input" must still find Input first.
    btn.dataset.search = `${name} block${builtin ? " built-in" : ""}`.toLowerCase();
    btn.style.setProperty("--cat", categoryColor("block"));
    btn.title = builtin ? `Built-in: ${text}` : text;
    btn.setAttribute("aria-description", btn.title);
    btn.textContent = `▣ ${name}`;
    btn.addEventListener("dragstart", (ev) => startDrag(ev, type));
    btn.addEventListener("click", () => onAdd(type));
    if (!builtin) {
      btn.addEventListener("contextmenu", (ev) => {
        ev.preventDefault();
        showContextMenu(ev.clientX, ev.clientY, [[`Remove ${name} from this network`, "menu-remove-block", () => onRemove(name)]]);
      });
    }
    li.append(btn);
    ul.append(li);
  }
  group.replaceChildren(head, ul);
  group.hidden = !ul.childElementCount;
  if (search?.value) search.dispatchEvent(new Event("input")); // keep the filter applied
}

/** The breadcrumb: `path` is [graph name, block, inner block, ...]; a click goes back to that level. */
export function renderBreadcrumb(el, path, onGo) {
  el.hidden = path.length < 2;
  el.replaceChildren();
  path.forEach((label, i) => {
    if (i) el.append(Object.assign(document.createElement("span"), { className: "sep", textContent: "›" }));
    if (i === path.length - 1) {
      el.append(Object.assign(document.createElement("strong"), { textContent: label }));
      return;
    }
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    b.dataset.testid = `crumb-${i}`;
    b.textContent = label;
    b.addEventListener("click", () => onGo(i));
    el.append(b);
  });
}

/** Ask a new block's name in `dialog`; resolves the name, or null when cancelled. */
export function askBlockName(dialog, suggestion) {
  const input = dialog.querySelector("input");
  const msg = dialog.querySelector(".field-msg");
  input.value = suggestion;
  msg.textContent = "";
  dialog.showModal();
  input.select();
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.removeEventListener("close", onClose);
      form.removeEventListener("submit", onSubmit);
      resolve(value);
    };
    const form = dialog.querySelector("form.block-form");
    const onSubmit = (e) => {
      e.preventDefault();
      const name = input.value.trim();
      if (!NAME_RE.test(name)) {
        msg.textContent = "Letters, digits and _, starting with a letter or _ (at most 64)";
        input.setAttribute("aria-invalid", "true");
        return;
      }
      input.setAttribute("aria-invalid", "false");
      done(name);
      dialog.close();
    };
    const onClose = () => done(null);
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
  });
}

/** A small menu at (x, y): items are [label, testid, fn]; closes on any click or Escape. */
export function showContextMenu(x, y, items) {
  document.querySelector(".tc-menu")?.remove();
  if (!items.length) return;
  const menu = document.createElement("div");
  menu.className = "tc-menu";
  menu.setAttribute("role", "menu");
  menu.dataset.testid = "context-menu";
  Object.assign(menu.style, { left: `${x}px`, top: `${y}px` });
  const close = () => {
    menu.remove();
    document.removeEventListener("pointerdown", outside, true);
    document.removeEventListener("keydown", onKey, true);
  };
  const outside = (e) => {
    if (!menu.contains(e.target)) close();
  };
  const onKey = (e) => {
    if (e.key === "Escape") close();
  };
  for (const [label, testid, fn] of items) {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "menuitem");
    b.dataset.testid = testid;
    b.textContent = label;
    b.addEventListener("click", () => {
      close();
      fn();
    });
    menu.append(b);
  }
  document.body.append(menu);
  document.addEventListener("pointerdown", outside, true);
  document.addEventListener("keydown", onKey, true);
  menu.querySelector("button")?.focus();
}
