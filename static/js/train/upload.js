/**
 * Upload a dataset: a CSV (the user picks its label column, and optionally a
 * text column to classify, read as words or characters) or a zip of class
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
const isZip = (file) => !!file && /\.zip$/i.test(file.name);

export class UploadForm {
  /**
   * `onUploaded(info)` gets the server's description of the new dataset; `onUse(info)`
   * runs when the user asks to use it in the open project (`canSwitch()` false: the
   * project has a dataset, so the switch is offered, never made silently).
   */
  constructor(container, {onUploaded, onUse, canSwitch = () => true}) {
    this.onUploaded = onUploaded;
    this.onUse = onUse;
    this.canSwitch = canSwitch;
    this.file = el("input", {type: "file", accept: ".csv,.zip,text/csv,application/zip",
      "data-testid": "upload", onchange: () => this._picked()});
    this.label = el("select", {"data-testid": "upload-label", disabled: true},
      el("option", {value: ""}, "(pick a CSV first)"));
    this.labelField = field("Label column", this.label);
    this.labelField.hidden = true;
    // A text column turns the CSV into token ids (text classification); none: numbers.
    this.text = el("select", {"data-testid": "upload-text", onchange: () => this._textChosen()},
      el("option", {value: ""}, "(none: numeric features)"));
    this.tokens = el("select", {"data-testid": "upload-tokens"},
      el("option", {value: "word"}, "words"), el("option", {value: "char"}, "characters"));
    this.textField = field("Text column", this.text);
    this.tokensField = field("Split text into", this.tokens);
    this.textField.hidden = this.tokensField.hidden = true;
    this.submit = el("button", {type: "button", "data-testid": "upload-submit", disabled: true,
      onclick: () => this._send()}, "Upload");
    this.bar = el("progress", {max: 1, value: 0, hidden: true, "aria-label": "Upload progress",
      "data-testid": "upload-progress"});
    this.message = el("p", {class: "tp-upload-message", role: "status", "aria-live": "polite",
      "data-testid": "upload-message"});
    container.append(el("details", {class: "tp-upload"},
      el("summary", {}, "Upload your own data"),
      el("p", {class: "tp-hint"}, "A CSV with a header row (numeric features, any label column), or a zip with one folder of images per class."),
      field("File", this.file), this.labelField, this.textField, this.tokensField, el("div", {class: "tp-row"}, this.submit, this.bar), this.message));
  }

  async _picked() {
    const file = this.file.files[0];
    this.message.textContent = "";
    this.message.className = "tp-upload-message";
    this.submit.disabled = !file;
    this.bar.hidden = true;
    this.bar.value = 0;
    const csv = isCsv(file);
    this.labelField.hidden = !csv;
    this.textField.hidden = !csv;
    this.tokensField.hidden = true;
    this.label.disabled = !csv;
    if (file && !csv && !isZip(file)) {
      // Refused here, before a byte is sent: a .txt is not a CSV even if it looks like one.
      this.submit.disabled = true;
      this.message.className = "tp-upload-message tp-error";
      this.message.textContent = `${file.name} is not a .csv file or a .zip of images: `
        + "choose a CSV with a header row (its name ending in .csv) or a zip with one folder of images per class.";
      return;
    }
    if (!csv) return;
    // Only the first line is needed; do not read a large file whole.
    const head = await file.slice(0, 64 * 1024).text();
    const columns = csvHeader(head.split(/\r?\n/)[0] || "");
    this.label.replaceChildren(...columns.map((c) => el("option", {value: c}, c)));
    // The label is usually the last column; preselect one named like a label.
    const guess = columns.find((c) => /^(label|target|class|y)$/i.test(c)) || columns[columns.length - 1];
    if (guess) this.label.value = guess;
    this.text.replaceChildren(el("option", {value: ""}, "(none: numeric features)"),
      ...columns.map((c) => el("option", {value: c}, c)));
    const textGuess = columns.find((c) => /^(text|review|sentence|comment|message|title)$/i.test(c));
    this.text.value = textGuess || "";
    this._textChosen();
  }

  _textChosen() { this.tokensField.hidden = !this.text.value; }

  async _send() {
    const file = this.file.files[0];
    if (!file) return;
    this.submit.disabled = true;
    this.bar.hidden = false;
    this.bar.value = 0;
    this.message.className = "tp-upload-message";
    this.message.textContent = `Uploading ${file.name}…`;
    try {
      const fields = isCsv(file) ? {label: this.label.value, text: this.text.value,
        tokens: this.text.value ? this.tokens.value : ""} : {};
      const info = await uploadDataset(file, fields, (f) => { this.bar.value = f; });
      this.message.textContent = `Added dataset "${info.name}".`;
      await this.onUploaded?.(info);
      if (this.canSwitch()) await this.onUse?.(info);
      else {
        // The open project has its own dataset (and an Input shaped for it): ask first.
        this.message.append(" ", el("button", {type: "button", "data-testid": "upload-use",
          onclick: async (e) => { e.target.remove(); await this.onUse?.(info); }}, "Use in this project"));
      }
    } catch (err) {
      this.message.className = "tp-upload-message tp-error";
      this.message.textContent = `Upload refused: ${errorText(err)}`;
      this.bar.hidden = true; // a full bar would say it worked
      this.bar.value = 0;
    } finally {
      this.submit.disabled = false;
    }
  }
}
