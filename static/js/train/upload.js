/**
 * Upload a dataset: a CSV (the user picks its label column) or a zip of class
 * folders. The header is read in the browser so the label can be chosen
 * before anything is sent; the server still checks everything, and when it
 * refuses the file its own message is shown as-is, since it names the row or
 * entry at fault far better than we could.
 */
import {el, field, errorText} from "./dom.js";
import {uploadDataset} from "../api.js";

/** Split one CSV header line, honouring double quotes. */
export function csvHeader(line) {
  const out = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { out.push(cur.trim()); cur = ""; }
    else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((c, i) => c || i < out.length - 1);
}

const isCsv = (file) => !!file && /\.csv$/i.test(file.name);

export class UploadForm {
  /** `onUploaded(info)` gets the server's description of the new dataset. */
  constructor(container, {onUploaded}) {
    this.onUploaded = onUploaded;
    this.file = el("input", {type: "file", accept: ".csv,.zip,text/csv,application/zip",
      "data-testid": "upload", onchange: () => this._picked()});
    this.label = el("select", {"data-testid": "upload-label", disabled: true},
      el("option", {value: ""}, "(pick a CSV first)"));
    this.labelField = field("Label column", this.label);
    this.labelField.hidden = true;
    this.submit = el("button", {type: "button", "data-testid": "upload-submit", disabled: true,
      onclick: () => this._send()}, "Upload");
    this.bar = el("progress", {max: 1, value: 0, hidden: true, "aria-label": "Upload progress",
      "data-testid": "upload-progress"});
    this.message = el("p", {class: "tp-upload-message", role: "status", "aria-live": "polite",
      "data-testid": "upload-message"});
    container.append(el("details", {class: "tp-upload"},
      el("summary", {}, "Upload your own data"),
      el("p", {class: "tp-hint"}, "A CSV with a header row (numeric features, any label column), or a zip with one folder of images per class."),
      field("File", this.file), this.labelField, el("div", {class: "tp-row"}, this.submit, this.bar), this.message));
  }

  async _picked() {
    const file = this.file.files[0];
    this.message.textContent = "";
    this.message.className = "tp-upload-message";
    this.submit.disabled = !file;
    const csv = isCsv(file);
    this.labelField.hidden = !csv;
    this.label.disabled = !csv;
    if (!csv) return;
    // Only the first line is needed; do not read a large file whole.
    const head = await file.slice(0, 64 * 1024).text();
    const columns = csvHeader(head.split(/\r?\n/)[0] || "");
    this.label.replaceChildren(...columns.map((c) => el("option", {value: c}, c)));
    // The label is usually the last column; preselect one named like a label.
    const guess = columns.find((c) => /^(label|target|class|y)$/i.test(c)) || columns[columns.length - 1];
    if (guess) this.label.value = guess;
  }

  async _send() {
    const file = this.file.files[0];
    if (!file) return;
    this.submit.disabled = true;
    this.bar.hidden = false;
    this.bar.value = 0;
    this.message.className = "tp-upload-message";
    this.message.textContent = `Uploading ${file.name}…`;
    try {
      const info = await uploadDataset(file, isCsv(file) ? {label: this.label.value} : {}, (f) => { this.bar.value = f; });
      this.message.textContent = `Added dataset "${info.name}".`;
      await this.onUploaded?.(info);
    } catch (err) {
      this.message.className = "tp-upload-message tp-error";
      this.message.textContent = `Upload refused: ${errorText(err)}`;
    } finally {
      this.submit.disabled = false;
    }
  }
}
