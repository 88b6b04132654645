/**
 * Small form builders shared by the inspector's forms (inspector.js) and its block
 * parts (inspector-blocks.js): a heading, a labelled row, a text input, a button.
 */

export function heading(title, text) {
  const box = document.createElement("div");
  const h = document.createElement("h2");
  h.textContent = title;
  const p = document.createElement("p");
  p.className = "hint";
  p.textContent = text;
  box.append(h, p);
  return box;
}

export function row(labelText, input, help) {
  const wrap = document.createElement("div");
  wrap.className = "field";
  const label = document.createElement("label");
  label.htmlFor = input.id || "";
  label.textContent = labelText;
  if (help) label.title = help;
  const line = document.createElement("div");
  line.className = "field-row";
  line.append(input);
  wrap.append(label, line);
  return wrap;
}

export function textInput(testid, value) {
  const input = document.createElement("input");
  input.type = "text";
  input.value = value;
  input.id = `f-${testid}`;
  input.dataset.testid = testid;
  return input;
}

export function button(text, onClick, cls = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (cls) b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

export function span(text) {
  const s = document.createElement("span");
  s.textContent = text;
  return s;
}
