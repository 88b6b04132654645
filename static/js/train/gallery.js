/**
 * A gallery of the trained model's answers on sample images, wrong ones marked.
 *
 * The trainer's events carry no per-sample predictions, so after a run the
 * panel asks the server's predict endpoint about the dataset's preview images
 * (a spread of the whole set, so some were trained on): a quick look at what
 * the model confuses, not a validation score. That is said in the caption.
 */
import {el, errorText} from "./dom.js";
import {predict} from "../api.js";
import {imageCanvas} from "./preview.js";

export class Gallery {
  constructor(container) {
    this.grid = el("div", {class: "tp-image-grid"});
    this.caption = el("p", {class: "tp-caption"});
    this.wrap = el("div", {class: "tp-diag tp-gallery", hidden: true, "data-testid": "gallery"},
      el("h4", {}, "Predictions on sample images"), this.grid, this.caption);
    container.append(this.wrap);
    this.token = 0;
  }

  hide() { this.token += 1; this.wrap.hidden = true; }

  /** Ask the model about each sample image of `samples` ({x: images, y: labels}). */
  async show(run, info, samples) {
    const token = ++this.token;
    const images = samples?.x || [];
    if (!info || info.kind !== "image" || !images.length) { this.wrap.hidden = true; return; }
    this.wrap.hidden = false;
    this.grid.replaceChildren();
    this.caption.textContent = "Asking the model…";
    const shape = info.input_shape || [];
    const scale = Math.max(1, Math.round(40 / (shape[shape.length - 1] || 28)));
    let answers;
    try {
      answers = await Promise.all(images.map((image) => predict(run.id, image)));
    } catch (err) {
      if (token === this.token) this.caption.textContent = `No predictions: ${errorText(err)}`;
      return;
    }
    if (token !== this.token) return;
    let wrong = 0;
    this.grid.replaceChildren(...answers.map((answer, i) => {
      const probs = answer.probabilities || [];
      const labels = answer.labels || info.class_names || [];
      const best = probs.indexOf(Math.max(...probs));
      const truth = samples.y?.[i];
      const miss = truth !== undefined && best !== truth;
      if (miss) wrong += 1;
      const name = (k) => labels[k] ?? String(k);
      return el("figure", {class: `tp-thumb-fig ${miss ? "tp-wrong" : ""}`, "data-wrong": String(miss)},
        imageCanvas(images[i], shape, scale),
        el("figcaption", {}, miss ? `✗ ${name(best)} (is ${name(truth)})` : `${name(best)}`));
    }));
    this.caption.textContent = `${wrong} of ${answers.length} wrong (marked ✗). `
      + "Samples spread over the whole dataset, so some were trained on.";
  }
}
