/**
 * The dataset picker: choose a dataset, see a preview and what it implies.
 *
 * Choosing sets the graph's `data.dataset` and the `Input` shape (the model
 * must accept what the data is), then checks the output width against the
 * classes, because a 10-way digit set on a 2-wide output is the most common
 * first mistake and the trainer would only fail later with a cryptic error.
 */
import {el, field, errorText} from "./dom.js";
import {getCatalog, listDatasets, previewDataset, validateGraph} from "../api.js";
import {currentGraph, useDataset, onGraphChange, outputNode, expectedWidth} from "./graph-link.js";
import {renderPreview, previewSamples} from "./preview.js";

// Registry datasets whose params schema requires a `path` only make sense with an uploaded file behind them.
const needsFile = (d) => !!d.schema?.required?.includes("path");

const TASK_WORDS = {classification: "classification", binary: "binary classification", regression: "regression"};

export class DatasetPicker {
  /** `onChange(info, preview)` runs when the shown dataset changes. */
  constructor(container, {onChange, defaults} = {}) {
    this.onChange = onChange;
    this.defaults = defaults || (() => ({}));
    this.datasets = [];
    this.info = null;
    this.preview = null;
    this.select = el("select", {"data-testid": "dataset", onchange: () => this.choose(this.select.value)},
      el("option", {value: ""}, "Loading…"));
    this.infoBox = el("div", {class: "tp-dataset-info", "aria-live": "polite"});
    this.warning = el("p", {class: "tp-warning", role: "alert", hidden: true, "data-testid": "output-mismatch"});
    this.previewBox = el("div", {class: "tp-preview", "data-testid": "dataset-preview"});
    container.append(field("Dataset", this.select), this.infoBox, this.warning, this.previewBox);
    let timer = null;
    onGraphChange(() => {
      // The graph may name another dataset (a template was loaded) or its
      // output may have changed: follow it, debounced like the editor does.
      clearTimeout(timer);
      timer = setTimeout(() => this._followGraph(), 300);
    });
  }

  async load(selectName) {
    try {
      this.datasets = await listDatasets();
    } catch (err) {
      this.select.replaceChildren(el("option", {value: ""}, "Datasets unavailable"));
      this.infoBox.textContent = `Could not list datasets: ${errorText(err)}`;
      return;
    }
    this._fillSelect();
    const name = selectName || this.entryFor(currentGraph().data)?.name;
    if (name && this.byName(name)) await this.show(name);
  }

  byName(name) { return this.datasets.find((d) => d.name === name) || null; }

  /** The picker entry a graph's `data` refers to: an upload (by its file) or a built-in. */
  entryFor(data) {
    if (!data?.dataset) return null;
    const path = data.params?.path;
    if (path) {
      const upload = this.datasets.find((d) => d.upload && d.dataset === data.dataset && d.params?.path === path);
      if (upload) return upload;
    }
    return this.datasets.find((d) => !d.upload && d.name === data.dataset) || null;
  }

  _fillSelect() {
    const groups = {};
    // Datasets that need a file (csv, imagefolder) are used through uploads, not picked bare.
    for (const d of this.datasets) {
      if (!d.upload && (needsFile(d) || !Array.isArray(d.input_shape))) continue;
      (groups[d.upload ? "upload" : d.kind || "other"] ||= []).push(d);
    }
    const names = {"2d": "2-D points", image: "Images", tabular: "Tables", sequence: "Sequences and text",
      upload: "Uploaded", other: "Other"};
    this.select.replaceChildren(el("option", {value: ""}, "Choose a dataset…"),
      ...Object.entries(groups).map(([kind, list]) => el("optgroup", {label: names[kind] || kind},
        list.map((d) => el("option", {value: d.name, title: d.how_to_get || null},
          `${d.name}${d.task ? ` (${TASK_WORDS[d.task] || d.task})` : ""}${d.available === false ? " (not downloaded)" : ""}`)))));
    if (this.info) this.select.value = this.info.name;
  }

  /** Add a dataset the server just accepted (an upload) to the list, without choosing it. */
  add(info) {
    this.datasets = this.datasets.filter((d) => d.name !== info.name).concat([info]);
    this._fillSelect();
  }

  /** The user chose a dataset: show it and write it into the graph. */
  async choose(name) {
    const info = this.byName(name);
    if (!info) return;
    this.select.value = name;
    useDataset(info, this.defaults());
    await this.show(name);
  }

  /** Show a dataset without touching the graph. */
  async show(name) {
    const info = this.byName(name);
    if (!info) return;
    this.info = info;
    this.select.value = name;
    const shape = Array.isArray(info.input_shape) ? `(${info.input_shape.join(", ")})` : "set by the file";
    const classes = info.class_names?.length
      ? `${info.class_names.length} classes: ${info.class_names.slice(0, 12).join(", ")}${info.class_names.length > 12 ? ", …" : ""}`
      : info.task === "regression" ? `predicts ${info.output_width} value${info.output_width > 1 ? "s" : ""}` : "";
    this.infoBox.replaceChildren(
      el("p", {class: "tp-desc"}, info.description || ""),
      el("dl", {class: "tp-facts"},
        el("dt", {}, "Task"), el("dd", {}, TASK_WORDS[info.task] || info.task),
        el("dt", {}, "Input shape"), el("dd", {}, shape),
        el("dt", {}, "Output width"), el("dd", {}, String(info.output_width ?? "–")),
        classes ? [el("dt", {}, "Classes"), el("dd", {}, classes)] : null));
    this.previewBox.replaceChildren(el("p", {class: "tp-caption"}, "Loading preview…"));
    this.preview = null;
    try {
      this.preview = await previewDataset(name);
      if (this.info !== info) return; // another dataset was chosen meanwhile
      this.previewBox.replaceChildren(renderPreview(this.preview, info));
    } catch (err) {
      this.previewBox.replaceChildren(el("p", {class: "tp-error"}, `No preview: ${errorText(err)}`));
    }
    this.onChange?.(info, this.preview && previewSamples(this.preview));
    this.checkOutput();
  }

  async _followGraph() {
    const entry = this.entryFor(currentGraph().data);
    if (entry && entry !== this.info) await this.show(entry.name);
    else if (!entry && this.info) this.showNone();
    else this.checkOutput();
  }

  /** The graph has no dataset (New, undo, a template without one): the dropdown says so. */
  showNone() {
    this.info = null;
    this.preview = null;
    this.select.value = "";
    this.infoBox.replaceChildren();
    this.previewBox.replaceChildren();
    this.warning.hidden = true;
    this.onChange?.(null, null);
  }

  /** Flag an output width that does not match what the dataset needs. */
  async checkOutput() {
    const info = this.info;
    const graph = currentGraph();
    const losses = await getCatalog().then((c) => c.losses, () => []);
    const want = expectedWidth(info, losses?.find((l) => l.type === graph.loss?.type));
    const out = outputNode(graph);
    if (!info || !out || !want) { this.warning.hidden = true; return; }
    let width = null;
    try {
      const v = await validateGraph(graph);
      const shape = v?.nodes?.[out.id]?.output_shape;
      if (Array.isArray(shape) && shape.length) width = shape[shape.length - 1];
    } catch { /* validation unavailable: no width to compare */ }
    if (this.info !== info) return;
    if (width !== null && width !== want) {
      this.warning.textContent = `Output width mismatch: "${out.id}" emits ${width} value${width === 1 ? "" : "s"} but ${info.name} needs ${want}`
        + `${info.task === "regression" ? "" : ` (${info.task === "binary" ? "one logit for two classes" : `one per class`})`}.`;
      this.warning.hidden = false;
    } else {
      this.warning.hidden = true;
    }
  }
}
