/**
 * Keyboard shortcuts: one table drives both the key handling and the help overlay.
 *
 * Keys typed into a form field stay with the field; everything else is matched
 * against the table (Ctrl and Cmd are the same key here).
 */

export const SHORTCUTS = [
  { keys: ["mod+z"], label: "Undo", command: "undo" },
  { keys: ["mod+shift+z", "mod+y"], label: "Redo", command: "redo" },
  { keys: ["mod+c"], label: "Copy selected layers", command: "copy" },
  { keys: ["mod+v"], label: "Paste", command: "paste" },
  { keys: ["mod+x"], label: "Cut", command: "cut" },
  { keys: ["mod+d"], label: "Duplicate", command: "duplicate" },
  { keys: ["delete", "backspace"], label: "Delete selection", command: "delete" },
  { keys: ["mod+a"], label: "Select all", command: "selectAll" },
  { keys: ["escape"], label: "Clear selection / close", command: "escape" },
  { keys: ["arrowleft"], label: "Move selection left (Shift: further)", command: "left" },
  { keys: ["arrowright"], label: "Move selection right", command: "right" },
  { keys: ["arrowup"], label: "Move selection up", command: "up" },
  { keys: ["arrowdown"], label: "Move selection down", command: "down" },
  { keys: ["shift+arrowleft"], label: "", command: "farLeft" },
  { keys: ["shift+arrowright"], label: "", command: "farRight" },
  { keys: ["shift+arrowup"], label: "", command: "farUp" },
  { keys: ["shift+arrowdown"], label: "", command: "farDown" },
  { keys: ["l"], label: "Auto-layout", command: "layout" },
  { keys: ["b"], label: "Make a block from the selected layers", command: "makeBlock" },
  { keys: ["f"], label: "Fit to screen", command: "fit" },
  { keys: ["+", "="], label: "Zoom in", command: "zoomIn" },
  { keys: ["-"], label: "Zoom out", command: "zoomOut" },
  { keys: ["0"], label: "Zoom to 100%", command: "zoomReset" },
  { keys: ["mod+s"], label: "Save project", command: "save" },
  { keys: ["mod+e"], label: "Export code", command: "export" },
  { keys: ["/"], label: "Search the palette", command: "search" },
  { keys: ["?"], label: "Show this help", command: "help" },
];

function keyName(e) {
  const parts = [];
  if (e.ctrlKey || e.metaKey) parts.push("mod");
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase();
  // Shift is part of "?" and "+" already; name it only for letters.
  if (e.shiftKey && (/^[a-z]$/.test(key) || key.startsWith("arrow"))) parts.push("shift");
  parts.push(key);
  return parts.join("+");
}

const GLOBAL = new Set(["save", "export"]);

const isTyping = (el) =>
  el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

export function installShortcuts(commands) {
  const map = new Map();
  for (const s of SHORTCUTS) for (const k of s.keys) map.set(k, s.command);
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented) return;
    if (document.querySelector("dialog[open]")) return; // the dialog has the keys (Escape closes it)
    const command = map.get(keyName(e));
    if (!command || !commands[command]) return;
    // In a form field keys are text, except the page-wide commands (Ctrl+S, Ctrl+E), and
    // undo/redo in the inspector's fields: they edit the graph as they type, so the box's
    // own undo would add a graph step; the graph's undo puts box and graph back together.
    // A dropdown has no text to undo: Ctrl+Z right after choosing (a dataset) undoes the choice.
    const inInspector = e.target?.closest?.("[data-testid=inspector]") || e.target?.tagName === "SELECT";
    const graphUndo = (command === "undo" || command === "redo") && inInspector;
    if (isTyping(e.target) && !GLOBAL.has(command) && !graphUndo) return;
    // Copy/paste stay native when the user has selected page text.
    if (["copy", "cut"].includes(command) && String(getSelection()).length) return;
    e.preventDefault();
    commands[command]();
  });
}

const KEY_NAMES = { mod: "Ctrl/⌘", arrowleft: "←", arrowright: "→", arrowup: "↑", arrowdown: "↓" };

export function renderHelp(list) {
  list.replaceChildren(...SHORTCUTS.filter((s) => s.label).map((s) => {
    const dt = document.createElement("dt");
    dt.append(...s.keys.flatMap((k, i) => [
      ...(i ? [" or "] : []),
      ...k.split(/\+(?=.)/).map((part, j) => {
        const kbd = document.createElement("kbd");
        kbd.textContent = KEY_NAMES[part] || (part.length === 1 ? part.toUpperCase() : part[0].toUpperCase() + part.slice(1));
        return j ? ["+", kbd] : [kbd];
      }).flat(),
    ]));
    const dd = document.createElement("dd");
    dd.textContent = s.label;
    return [dt, dd];
  }).flat());
}
