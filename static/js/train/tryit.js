/**
 * "Try it": after training, ask the model about an input of your own: draw a
 * digit, click a point on the decision boundary, or type text (a sentence for a
 * text classifier, a prompt a language model continues), and see the answer.
 *
 * Inputs are sent raw (pixels in 0..1 shaped like one sample, or a point in
 * the data's own coordinates); the server applies the dataset's own
 * preprocessing, so the browser never has to know a dataset's statistics.
 *
 * Each answer offers "X-ray this": the editor's X-ray (xray-view.js) then looks
 * inside the network for that same input (a `tc-xray-input` event on window).
 *
 * The view appears only when /openapi.json lists `POST /api/runs/{id}/predict`,
 * so an older server simply shows no "Try it". The contract it relies on:
 *   request  {"input": <nested list shaped like data input_shape, e.g. (1, 8, 8)
 *             pixels in 0..1 for images, [x1, x2] in preview coordinates for 2-D sets>}
 *   answer   {"probabilities": [p per class], "labels": [class names]}
 *             (regression: {"output": [values]}); a model of token ids takes text:
 *             {"input": "a sentence", "length", "temperature", "seed"} and answers
 *             probabilities (with the "tokens" it saw) or {"text": continuation};
 *             404 without a checkpoint,
 *             422 for an input of the wrong shape, with the usual {"detail"}.
 */
import {el, fmt, errorText} from "./dom.js";
import {predict} from "../api.js";
import {classColor} from "./colors.js";
import {imageCanvas} from "./preview.js";

const DRAW_PX = 196;

export class TryIt {
  constructor(container) {
    this.body = el("div", {class: "tp-tryit-body"});
    this.result = el("div", {class: "tp-probs", "data-testid": "predictions", "aria-live": "polite",
      // A floating answer (on the boundary) closes when clicked; it never hides the map for good.
      onclick: () => { if (this.result.classList.contains("tp-float")) this.result.replaceChildren(); }});
    this.wrap = el("div", {class: "tp-diag tp-tryit", hidden: true, "data-testid": "try-it"},
      el("h4", {}, "Try it"), this.body, this.result);
    container.append(this.wrap);
    this.ctx = null;
    this.boundary = null;
    this.enabled = false; // set once the server is known to offer /predict
  }

  /** Attach the boundary view so clicks on it can be predicted. */
  useBoundary(boundary) {
    this.boundary = boundary;
    boundary.canvas.addEventListener("click", (e) => {
      if (!this.ctx || this.ctx.mode !== "point") return;
      const point = boundary.toData(e);
      boundary.mark(point);
      // The answer floats where the user clicked, not in a box further down the panel.
      const box = boundary.box.getBoundingClientRect();
      boundary.box.append(this.result);
      this.result.classList.add("tp-float");
      this.result.style.left = `${Math.round(e.clientX - box.left + 8)}px`;
      this.result.style.top = `${Math.round(e.clientY - box.top + 8)}px`;
      this._ask(point);
    });
  }

  /** `ctx` = {run, dataset} after a run ends, or null to hide. */
  setRun(ctx) {
    this.ctx = null;
    this.result.replaceChildren();
    this.result.classList.remove("tp-float");
    this.wrap.append(this.result);
    const info = ctx?.dataset;
    // A model of several Inputs (a Siamese pair) has no single input to type or draw.
    if (!ctx || !info || !this.enabled || info.input_count > 1) { this.wrap.hidden = true; return; }
    const shape = info.input_shape || [];
    if (info.kind === "image" && shape.length >= 2 && (shape.length === 2 || shape[0] === 1)) {
      this.ctx = {...ctx, mode: "draw", shape};
      this._drawPad(shape);
    } else if (info.input_dtype === "long" && info.tokens) {
      this.ctx = {...ctx, mode: "text"};
      this._textBox(info);
    } else if (shape.length === 1 && shape[0] === 2 && this.boundary) {
      this.ctx = {...ctx, mode: "point"};
      this.body.replaceChildren(el("p", {class: "tp-hint"}, "Click anywhere on the decision boundary to ask the model about that point."));
    } else {
      this.wrap.hidden = true;
      return;
    }
    this.wrap.hidden = false;
  }

  /** A line of text to classify, or a prompt and sampling settings for a language model. */
  _textBox(info) {
    const lm = !!info.language_model;
    const text = el("input", {type: "text", class: "tp-text", "data-testid": "try-text", maxlength: 2000,
      placeholder: lm ? "A prompt, e.g. Beautiful is" : "Type a sentence",
      "aria-label": lm ? "Prompt for the language model" : "Text to classify"});
    const length = el("input", {type: "number", min: 1, max: 500, value: 200, "data-testid": "try-length",
      "aria-label": "Characters to generate"});
    const temperature = el("input", {type: "number", min: 0.05, max: 5, step: 0.05, value: 0.8,
      "data-testid": "try-temperature", "aria-label": "Temperature"});
    const go = () => {
      if (!text.value) return;
      const options = lm ? {length: Math.min(500, Math.max(1, Number(length.value) || 200)),
        temperature: Math.min(5, Math.max(0.05, Number(temperature.value) || 0.8))} : {};
      this._ask(text.value, options);
    };
    text.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
    const hint = lm
      ? "The model samples a continuation one character at a time; lower temperature is safer, higher more surprising."
      : info.per_token ? "The model answers one token per position of what you type."
        : "Words the model never saw count as unknown (<unk>).";
    this.body.replaceChildren(el("div", {class: "tp-row"}, text,
      el("button", {type: "button", "data-testid": "try-go", onclick: go}, lm ? "Generate" : "Ask")),
    ...(lm ? [el("div", {class: "tp-row"}, el("label", {}, "Length ", length), el("label", {}, "Temperature ", temperature))] : []),
    el("p", {class: "tp-hint"}, hint));
  }

  _drawPad(shape) {
    const [h, w] = shape.slice(-2);
    const pad = el("canvas", {width: DRAW_PX, height: DRAW_PX, class: "tp-pad", "data-testid": "draw-pad",
      "aria-label": `Drawing pad: draw a digit, it is scaled to ${h}x${w} pixels`});
    const ctx = pad.getContext("2d");
    const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, DRAW_PX, DRAW_PX); this.result.replaceChildren(); };
    clear();
    let drawing = false;
    let last = null;
    const pos = (e) => {
      const r = pad.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * DRAW_PX, ((e.clientY - r.top) / r.height) * DRAW_PX];
    };
    pad.addEventListener("pointerdown", (e) => { drawing = true; last = pos(e); pad.setPointerCapture(e.pointerId); });
    pad.addEventListener("pointermove", (e) => {
      if (!drawing) return;
      const p = pos(e);
      ctx.strokeStyle = "#fff";
      // Strokes about two of the 8x8 pixels wide, like the digits the model learned from.
      ctx.lineWidth = DRAW_PX / 6;
      ctx.lineCap = "round";
      ctx.beginPath();
      ctx.moveTo(...last);
      ctx.lineTo(...p);
      ctx.stroke();
      last = p;
    });
    pad.addEventListener("pointerup", () => { drawing = false; this._ask(this._pixels(pad, h, w)); });
    this.body.replaceChildren(pad, el("div", {class: "tp-row"},
      el("button", {type: "button", onclick: clear}, "Clear"),
      el("span", {class: "tp-hint"}, "Draw a digit, white on black; it is predicted when you lift the pen.")));
  }

  /** Average the pad down to the model's resolution: pixels in 0..1, shaped (1, H, W). */
  _pixels(pad, h, w) {
    const small = el("canvas", {width: w, height: h});
    const sctx = small.getContext("2d");
    sctx.imageSmoothingEnabled = true;
    sctx.imageSmoothingQuality = "high";
    sctx.drawImage(pad, 0, 0, w, h);
    const data = sctx.getImageData(0, 0, w, h).data;
    const rows = Array.from({length: h}, (_, i) => Array.from({length: w}, (_, j) => data[(i * w + j) * 4] / 255));
    return this.ctx.shape.length === 3 ? [rows] : rows;
  }

  async _ask(input, options = {}) {
    const ctx = this.ctx;
    if (!ctx) return;
    this.result.replaceChildren(el("p", {class: "tp-caption"}, "Asking the model…"));
    try {
      const answer = await predict(ctx.run.id, input, options);
      if (this.ctx !== ctx) return;
      this._show(answer, ctx.dataset);
      this.result.append(el("button", {type: "button", class: "tp-xray-this", "data-testid": "xray-this",
        title: "See what this input does inside every layer (the X-ray in the inspector)",
        onclick: () => window.dispatchEvent(new CustomEvent("tc-xray-input", {detail: {input, run: ctx.run.id}}))},
      "X-ray this"));
    } catch (err) {
      this.result.replaceChildren(el("p", {class: "tp-error"}, err.status === 404 || err.status === 405
        ? "This server cannot make predictions yet (no /api/runs/{id}/predict)." : `Prediction failed: ${errorText(err)}`));
    }
  }

  _show(answer, info) {
    if (typeof answer.text === "string") { // a continuation, or a per-position answer
      this.result.replaceChildren(el("pre", {class: "tp-generated", "data-testid": "generated"},
        answer.prompt ? el("b", {}, answer.prompt) : "", answer.text));
      return;
    }
    const probs = answer.probabilities ?? answer.probs ?? null;
    if (!probs) {
      const out = answer.output ?? answer.outputs ?? answer.value;
      // The targets are images (C, H, W): show the output as one.
      const image = info.target_shape?.length === 3 && info.task === "regression" ? info.target_shape : null;
      if (image && Array.isArray(out) && out.length === image.reduce((a, b) => a * b, 1)) {
        this.result.replaceChildren(el("p", {class: "tp-prediction"}, "The model's image:"),
          imageCanvas(out, image, Math.max(1, Math.round(96 / image[image.length - 1]))));
        return;
      }
      this.result.replaceChildren(el("p", {}, `Prediction: ${Array.isArray(out) ? out.map((v) => fmt(v)).join(", ") : fmt(out)}`));
      return;
    }
    const labels = answer.labels ?? answer.classes ?? info.class_names ?? probs.map((_, i) => String(i));
    const best = probs.indexOf(Math.max(...probs));
    const seen = Array.isArray(answer.tokens) && answer.tokens.length
      ? [el("p", {class: "tp-hint"}, `Read as: ${answer.tokens.join(" ")}`)] : [];
    this.result.replaceChildren(el("p", {class: "tp-prediction"}, `Predicted: ${labels[best]}`), ...seen,
      el("ul", {class: "tp-bars"}, probs.map((p, i) => el("li", {class: "tp-bar-row"},
        el("span", {class: "tp-bar-label"}, labels[i]),
        el("span", {class: "tp-bar-track"}, el("span", {class: "tp-bar", style: `width:${(p * 100).toFixed(1)}%;background:${classColor(i)}`})),
        el("span", {class: "tp-bar-value"}, `${(p * 100).toFixed(1)}%`)))));
  }
}
