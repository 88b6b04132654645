/**
 * Tiny DOM helpers for the training panel.
 *
 * The panel builds its markup in JS (the template only gives it an empty
 * section), so a compact element builder keeps each UI module readable
 * without pulling in a framework.
 */

/** Create an element: `el("button", {class: "x", "data-testid": "train", onclick}, "Train")`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key in node && typeof value !== "string") {
      node[key] = value; // properties like `value`, `checked`, `disabled`
    } else {
      node.setAttribute(key, value === true ? "" : value);
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A labelled form field: the label wraps the control so clicks and screen readers agree. */
export function field(labelText, control, hint) {
  return el("label", {class: "tp-field"},
    el("span", {class: "tp-field-label"}, labelText), control,
    hint ? el("span", {class: "tp-hint"}, hint) : null);
}

/** Format a number for humans: few digits, no trailing noise, "–" for missing. */
export function fmt(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return value.toExponential(2);
  return String(Number(value.toPrecision(digits)));
}

/** Seconds as "1m 05s" / "12s". */
export function fmtDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** A CSS custom property of the panel, so canvas drawings follow light and dark themes. */
export function cssVar(name, fallback, node = document.querySelector(".tp-train") || document.documentElement) {
  const value = getComputedStyle(node).getPropertyValue(name).trim();
  return value || fallback;
}

/**
 * Call `fn` when the page switches between light and dark: the editor's theme
 * button sets `data-theme` on <html>, the system setting changes the media query.
 * Canvases and charts paint colours once, so they must be told to repaint.
 */
export function onThemeChange(fn) {
  new MutationObserver(() => fn()).observe(document.documentElement, {attributes: true, attributeFilter: ["data-theme", "class"]});
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => fn());
}

/**
 * An error as the user should read it: the server's own message without the
 * HTTP status prefix, followed by what it names (node or component at fault).
 */
export function errorText(err) {
  const msg = String(err?.message ?? err).replace(/^\d{3}: /, "");
  const extra = (err?.errors || [])
    .filter((e) => e && e.message && !msg.includes(e.message))
    .map((e) => (e.node || e.component ? `${e.node || e.component}: ${e.message}` : e.message));
  return extra.length ? `${msg}: ${extra.join("; ")}` : msg;
}
