/**
 * Training controls: epochs, batch size, validation fraction, seed, device,
 * the speed switches (mixed precision, channels_last, torch.compile) and the
 * Train and Stop buttons.
 *
 * The values live in the graph (`data` and `training`), not here, so a saved
 * project or a restored run brings its settings back; the inputs mirror the
 * graph and write every change into it. One table drives building, reading
 * and writing the fields, so a new control is one row.
 */
import {el, field} from "./dom.js";
import {currentGraph, onGraphChange, setRunConfig} from "./graph-link.js";

const FIELDS = [
  {key: "epochs", part: "training", label: "Epochs", testid: "epochs", def: 10, attrs: {min: 1, max: 10000, step: 1}, int: true},
  {key: "batch_size", part: "data", label: "Batch size", testid: "batch-size", def: 64, attrs: {min: 1, max: 65536, step: 1}, int: true},
  {key: "val_fraction", part: "data", label: "Validation fraction", testid: "val-fraction", def: 0.2, attrs: {min: 0, max: 0.9, step: 0.05}},
  {key: "seed", part: "training", label: "Seed", testid: "seed", def: 0, attrs: {min: 0, step: 1}, int: true},
];

// Off by default; a switch that is off leaves its key out of the graph, so a
// graph saved before the switches existed is saved unchanged.
const SWITCHES = [
  {key: "amp", label: "Mixed precision", testid: "amp", title: "bf16 or fp16 autocast on CUDA; ignored on other devices"},
  {key: "channels_last", label: "channels_last", testid: "channels-last", title: "image models (N, C, H, W) in the channels_last memory format; ignored, with a note, for other inputs"},
  {key: "compile", label: "torch.compile", testid: "compile", title: "compile the model before the first epoch (timed on its own); trains without it, with a note, if compiling fails"},
];

export class Controls {
  constructor(container, {onTrain, onStop}) {
    this.inputs = {};
    const fields = FIELDS.map((f) => {
      const input = el("input", {type: "number", "data-testid": f.testid, value: String(f.def), ...f.attrs,
        onchange: () => this._write()});
      this.inputs[f.key] = input;
      return field(f.label, input);
    });
    this.device = el("select", {"data-testid": "device", onchange: () => this._write()},
      el("option", {value: "auto"}, "auto"));
    this.switches = {};
    const switches = SWITCHES.map((s) => {
      const box = el("input", {type: "checkbox", "data-testid": s.testid, onchange: () => this._write()});
      this.switches[s.key] = box;
      return el("label", {class: "tp-switch", title: s.title}, box, el("span", {}, s.label));
    });
    this.train = el("button", {type: "button", class: "tp-primary", "data-testid": "train", onclick: () => onTrain()}, "Train");
    this.stop = el("button", {type: "button", "data-testid": "stop", disabled: true, onclick: () => onStop()}, "Stop");
    this.message = el("p", {class: "tp-error", role: "alert", "data-testid": "train-error", hidden: true});
    container.append(el("div", {class: "tp-controls"}, ...fields, field("Device", this.device)),
      el("div", {class: "tp-switches"}, ...switches),
      el("div", {class: "tp-row"}, this.train, this.stop), this.message);
    onGraphChange(() => this.read());
    this.read();
  }

  setDevices(devices) {
    const current = this.device.value;
    this.device.replaceChildren(...devices.map((d) => el("option", {value: d}, d)));
    this.device.value = devices.includes(current) ? current : devices[0];
    this.read();
  }

  /** Mirror the graph's values into the inputs (never while the user is typing in one). */
  read() {
    const g = currentGraph();
    for (const f of FIELDS) {
      const v = g[f.part]?.[f.key];
      const input = this.inputs[f.key];
      if (v !== undefined && v !== null && document.activeElement !== input) input.value = String(v);
    }
    const dev = g.training?.device;
    if (dev && [...this.device.options].some((o) => o.value === dev)) this.device.value = dev;
    for (const s of SWITCHES) this.switches[s.key].checked = g.training?.[s.key] === true;
  }

  /** The controls' values, parsed; invalid numbers fall back to the defaults. */
  values() {
    const out = {data: {}, training: {device: this.device.value || "auto"}};
    for (const f of FIELDS) {
      const raw = this.inputs[f.key].value;
      let v = f.int ? parseInt(raw, 10) : parseFloat(raw);
      if (!Number.isFinite(v)) v = f.def;
      out[f.part][f.key] = v;
    }
    // undefined, not false: JSON drops the key (see SWITCHES).
    for (const s of SWITCHES) out.training[s.key] = this.switches[s.key].checked ? true : undefined;
    return out;
  }

  _write() { setRunConfig(this.values()); }

  setRunning(running) {
    this.train.disabled = running;
    this.stop.disabled = !running;
  }

  showError(text) {
    this.message.hidden = !text;
    this.message.textContent = text || "";
  }
}
