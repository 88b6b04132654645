/**
 * The catalogue as the page sees it: GET /api/catalog indexed by type.
 *
 * Nothing here lists layers: every type, category, description, arity and params
 * schema comes from the server. Categories get their colour from a CSS variable
 * `--cat-<category>` (static/css/editor.css), or a stable hue for a category the
 * stylesheet does not know yet, so palette and canvas always agree.
 */

let catalog = null;
const byType = new Map();

export function setCatalog(data) {
  catalog = data;
  byType.clear();
  for (const [list, kind] of [
    ["layers", "layer"], ["losses", "loss"], ["optimizers", "optimizer"], ["schedulers", "scheduler"],
  ]) {
    for (const entry of data[list] || []) byType.set(entry.type, { ...entry, kind: entry.kind || kind });
  }
}

export const getCatalog = () => catalog;
export const entry = (type) => byType.get(type) || null;

/**
 * The training blocks first (a network needs a loss and an optimizer, and they must be
 * in reach without scrolling), then the layer categories in catalogue order.
 */
export function paletteGroups() {
  const groups = new Map();
  for (const [list, name] of [["losses", "loss"], ["optimizers", "optimizer"], ["schedulers", "scheduler"]]) {
    groups.set(name, (catalog[list] || []).map((e) => ({ ...e, kind: name })));
  }
  for (const c of catalog.categories || []) groups.set(c, []);
  for (const e of catalog.layers || []) {
    if (!groups.has(e.category)) groups.set(e.category, []);
    groups.get(e.category).push(e);
  }
  return [...groups].filter(([, items]) => items.length);
}

export function categoryColor(category) {
  const css = getComputedStyle(document.documentElement).getPropertyValue(`--cat-${category}`).trim();
  if (css) return css;
  let h = 0;
  for (const ch of category) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h} 55% 55%)`;
}

/** Default params for a new node: only the required ones that have no default. */
export function initialParams(type) {
  const schema = entry(type)?.params;
  const out = {};
  for (const name of schema?.required || []) {
    const p = schema.properties[name];
    if (p?.default !== undefined) out[name] = p.default;
  }
  return out;
}

/** Sizes printed like PyTorch's docs: (N, 16, 8, 8). */
export function fmtShape(shape) {
  if (!Array.isArray(shape)) return "?";
  return `(N, ${shape.join(", ")})`.replace("(N, )", "(N)");
}

export function fmtCount(n) {
  return typeof n === "number" ? n.toLocaleString("en-US") : "–";
}
