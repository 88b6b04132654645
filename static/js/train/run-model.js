/**
 * The state of one run, rebuilt from its event stream: no DOM, no network.
 *
 * Events arrive from a websocket replay, a live stream or the REST history, so
 * `add` is idempotent by `seq`: an event already seen is ignored, and a gap is
 * reported to the caller (who reconnects) instead of being papered over.
 * Series are kept columnar, as uPlot wants them, so charts never copy.
 */

export const FINAL_STATES = ["completed", "stopped", "diverged", "failed", "interrupted"];
export const isFinal = (status) => FINAL_STATES.includes(status);

export class RunModel {
  constructor(id, meta = {}) {
    this.id = id;
    this.meta = meta; // what GET /api/runs/{id} said: graph, dataset, times...
    this.lastSeq = -1;
    this.status = meta.status || "queued";
    this.error = meta.error || null;
    this.startTime = null;
    this.endTime = null;
    // Step loss against a global step count (x), the same length as `stepLoss`.
    this.steps = [];
    this.stepLoss = [];
    // Per-epoch values sit at the index of that epoch's last step so they can
    // share the loss chart's x axis; null elsewhere (drawn with gaps spanned).
    this.stepTrainLoss = [];
    this.stepValLoss = [];
    this.epochs = []; // the raw epoch events, in order
    this.boundary = null;
    this.confusion = null;
    this.lastStep = null; // {epoch, step} of the newest step event
    this.compile = null; // the newest `compile` event: compiling, compiled or skipped
    this.notes = []; // `note` events' messages: options the run ignored, and why
    this._stepOffset = 0;
    this._rawPrev = 0;
    this._epochOfPrev = null;
  }

  /** Add one event. Returns "ok", "dup" (already seen) or "gap" (an earlier seq is missing). */
  add(event) {
    const seq = event.seq;
    if (typeof seq === "number") {
      if (seq <= this.lastSeq) return "dup";
      if (seq !== this.lastSeq + 1) return "gap";
      this.lastSeq = seq;
    }
    switch (event.type) {
      case "status": this._status(event); break;
      case "step": this._step(event); break;
      case "epoch": this._epoch(event); break;
      case "boundary": this.boundary = event; break;
      case "confusion": this.confusion = event; break;
      case "compile": this.compile = event; break;
      case "note": this.notes.push(event.message); break;
      default: break; // newer event kinds are ignored, not fatal
    }
    return "ok";
  }

  _status(e) {
    this.status = e.status;
    if (e.error) this.error = e.error;
    if (e.status === "running" && this.startTime === null) this.startTime = e.time ?? null;
    if (isFinal(e.status)) this.endTime = e.time ?? null;
  }

  _step(e) {
    // Steps may count per epoch or for the whole run; a count that goes back
    // marks a new epoch, so offset it to keep x increasing either way.
    if (e.step < this._rawPrev && e.epoch !== this._epochOfPrev) this._stepOffset += this._rawPrev;
    this._rawPrev = e.step;
    this._epochOfPrev = e.epoch;
    const x = this._stepOffset + e.step;
    const n = this.steps.length;
    if (n && x <= this.steps[n - 1]) return; // never let x go backwards: uPlot needs it sorted
    this.steps.push(x);
    this.stepLoss.push(e.loss ?? null);
    this.stepTrainLoss.push(null);
    this.stepValLoss.push(null);
    this.lastStep = {epoch: e.epoch, step: e.step, x};
  }

  _epoch(e) {
    this.epochs.push(e);
    let i = this.steps.length - 1;
    if (i < 0 || this.stepTrainLoss[i] !== null || this.stepValLoss[i] !== null) {
      // No step of this epoch was streamed: give the epoch a point of its own.
      const x = (i < 0 ? 0 : this.steps[i]) + 1;
      this.steps.push(x);
      this.stepLoss.push(null);
      this.stepTrainLoss.push(null);
      this.stepValLoss.push(null);
      i += 1;
    }
    this.stepTrainLoss[i] = e.train_loss ?? null;
    this.stepValLoss[i] = e.val_loss ?? null;
  }

  get lastEpoch() { return this.epochs[this.epochs.length - 1] || null; }

  /** The epoch-level series, x = epoch number. */
  epochSeries(key) { return this.epochs.map((e) => e[key] ?? null); }

  /** Does the run report regression metrics rather than accuracy? */
  get isRegression() {
    const e = this.lastEpoch;
    return !!e && e.val_accuracy == null && e.train_accuracy == null
      && (e.val_r2 != null || e.val_mae != null);
  }

  /** Does the run report perplexity (a language model: one class per token)? */
  get hasPerplexity() { return this.epochs.some((e) => e.val_perplexity != null || e.train_perplexity != null); }

  /** Headline metrics for the history list and the status line. */
  finalMetrics() {
    const e = this.lastEpoch;
    if (!e) return {};
    const out = {val_loss: e.val_loss};
    if (e.val_accuracy != null) out.val_accuracy = e.val_accuracy;
    if (e.val_r2 != null) out.val_r2 = e.val_r2;
    if (e.val_mae != null) out.val_mae = e.val_mae;
    if (e.val_perplexity != null) out.val_perplexity = e.val_perplexity;
    return out;
  }
}
