/**
 * A gallery of the trained model's answers on validation images, wrong ones marked.
 *
 * After a run the panel asks the server for the first samples of the run's own
 * validation split (GET /api/runs/{id}/samples): images the model never
 * trained on, with their true labels and the model's class probabilities.
 */
import {el, errorText} from "./dom.js";
import {getSamples} from "../api.js";
import {imageCanvas} from "./preview.js";

export class Gallery {
  constructor(container) {
    this.grid = el("div", {class: "tp-image-grid"});
    this.caption = el("p", {class: "tp-caption"});
    this.wrap = el("div", {class: "tp-diag tp-gallery", hidden: true, "data-testid": "gallery"},
      el("h4", {}, "Predictions on validation images"), this.grid, this.caption);
    container.append(this.wrap);
    this.token = 0;
  }

  hide() { this.token += 1; this.wrap.hidden = true; }

  /** Show the model's answers on the first validation images of `run`. */
  async show(run, info) {
    const token = ++this.token;
    // Class answers only: a network that outputs images (digits_images) has no labels to mark.
    if (!info || info.kind !== "image" || info.task === "regression") { this.wrap.hidden = true; return; }
    this.wrap.hidden = false;
    this.grid.replaceChildren();
    this.caption.textContent = "Asking the model…";
    const shape = info.input_shape || [];
    const scale = Math.max(1, Math.round(40 / (shape[shape.length - 1] || 28)));
    let samples;
    try {
      samples = await getSamples(run.id, 16);
    } catch (err) {
      if (token === this.token) this.caption.textContent = `No predictions: ${errorText(err)}`;
      return;
    }
    if (token !== this.token) return;
    const name = (k) => samples.class_names[k] ?? String(k);
    let wrong = 0;
    this.grid.replaceChildren(...samples.inputs.map((image, i) => {
      const probs = samples.probabilities[i];
      const best = probs.indexOf(Math.max(...probs));
      const truth = samples.labels[i];
      const miss = best !== truth;
      if (miss) wrong += 1;
      return el("figure", {class: `tp-thumb-fig ${miss ? "tp-wrong" : ""}`, "data-wrong": String(miss)},
        imageCanvas(image, shape, scale),
        el("figcaption", {}, miss ? `✗ ${name(best)} (is ${name(truth)})` : `${name(best)}`));
    }));
    this.caption.textContent = `${wrong} of ${samples.inputs.length} wrong (marked ✗): `
      + "validation images the model never trained on.";
  }
}
