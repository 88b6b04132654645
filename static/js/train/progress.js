/**
 * The run's status word and its progress: epoch, step, ETA and throughput.
 *
 * The status word alone is the `run-status` text (tests and people read it
 * as-is); how a run ended badly (where it diverged, why it failed) goes in the
 * line beside it, in words, so no final state can be mistaken for another.
 */
import {el, fmt, fmtDuration} from "./dom.js";
import {isFinal} from "./run-model.js";

const EXPLAIN = {
  queued: "Waiting for a free worker.",
  running: "Training.",
  completed: "Finished all epochs.",
  stopped: "Stopped before the last epoch; the last checkpoint is kept.",
  diverged: "The loss became NaN or infinite, so training was halted.",
  failed: "The run failed.",
  interrupted: "The server stopped while this run was going; its checkpoint and curves are kept.",
};

export class ProgressView {
  constructor(container) {
    this.status = el("span", {class: "tp-status", "data-testid": "run-status", role: "status", "aria-live": "polite"}, "idle");
    this.detail = el("span", {class: "tp-status-detail"}, "No run yet.");
    this.bar = el("progress", {max: 1, value: 0, "aria-label": "Training progress"});
    this.text = el("span", {class: "tp-progress-text"}, "");
    this.box = el("div", {class: "tp-progress", "data-testid": "progress"}, this.bar, this.text);
    container.append(el("div", {class: "tp-status-row"}, this.status, this.detail), this.box);
  }

  reset() {
    this._word("idle");
    this.detail.textContent = "No run yet.";
    this.bar.value = 0;
    this.text.textContent = "";
  }

  _word(word) {
    this.status.textContent = word;
    this.status.className = `tp-status tp-status-${word}`;
  }

  /** Redraw from the run model; `totalEpochs` comes from the run's graph. */
  show(run, totalEpochs) {
    this._word(run.status);
    this.detail.textContent = this._explain(run);
    const done = run.epochs.length;
    const last = run.lastEpoch;
    const E = totalEpochs || Math.max(done, 1);
    // Steps per epoch are known once an epoch has ended; until then the bar
    // only moves at epoch boundaries rather than guessing.
    const stepsPerEpoch = done ? this._stepsPerEpoch(run) : 0;
    const curStep = run.lastStep ? run.lastStep.step : 0;
    let frac = done / E;
    if (stepsPerEpoch && !isFinal(run.status)) {
      frac = Math.min(1, Math.max(frac, curStep / (stepsPerEpoch * E)));
    }
    if (run.status === "completed") frac = 1;
    this.bar.value = frac;
    const parts = [];
    const epochNow = isFinal(run.status) ? done : Math.min(E, (run.lastStep?.epoch ?? done + 1));
    parts.push(`epoch ${epochNow}/${E}`);
    if (run.lastStep) parts.push(`step ${curStep}${stepsPerEpoch ? `/${stepsPerEpoch * E}` : ""}`);
    if (!isFinal(run.status) && run.status !== "queued" && frac > 0 && frac < 1) {
      const elapsed = this._elapsed(run);
      if (elapsed > 0) parts.push(`ETA ${fmtDuration((elapsed / frac) * (1 - frac))}`);
    } else if (isFinal(run.status)) {
      const elapsed = this._elapsed(run);
      if (elapsed > 0) parts.push(`took ${fmtDuration(elapsed)}`);
    }
    if (last?.samples_per_second) parts.push(`${Math.round(last.samples_per_second).toLocaleString("en")} samples/s`);
    if (run.compile?.phase === "compiled") parts.push(`compiled in ${fmt(run.compile.seconds, 2)} s`);
    this.text.textContent = parts.join(" · ");
  }

  _stepsPerEpoch(run) {
    // The global step reached at the end of the first epoch.
    const i = run.stepTrainLoss.findIndex((v, k) => v !== null || run.stepValLoss[k] !== null);
    return i >= 0 ? run.steps[i] : 0;
  }

  _elapsed(run) {
    if (run.startTime == null) return run.epochs.reduce((a, e) => a + (e.seconds || 0), 0);
    const end = run.endTime ?? Date.now() / 1000;
    return end - run.startTime;
  }

  _explain(run) {
    // Options the run set aside (channels_last on tabular data, a compile that
    // failed) are said after whatever else the line says.
    const notes = [...(run.notes || [])];
    if (run.compile?.phase === "skipped" && run.compile.message) notes.push(run.compile.message);
    const said = this._explainStatus(run);
    return notes.length ? `${said} ${notes.map((n) => `Note: ${n}.`).join(" ")}`.trim() : said;
  }

  _explainStatus(run) {
    if (run.stopping && !isFinal(run.status)) return "Stopping after the current batch…";
    if (run.status === "running" && run.compile?.phase === "compiling") return "Compiling the model with torch.compile…";
    const base = EXPLAIN[run.status] || "";
    if (run.status === "diverged") {
      const where = run.lastStep ? ` Last finite loss seen at epoch ${run.lastStep.epoch}, step ${run.lastStep.step}.` : "";
      return `${run.error || base}${run.error ? "" : where}`;
    }
    if (run.status === "failed") return `Failed: ${run.error || "no reason was given"}`;
    if (run.status === "completed" && run.lastEpoch) {
      const m = run.finalMetrics();
      const bits = [`val loss ${fmt(m.val_loss)}`];
      if (m.val_accuracy != null) bits.push(`val accuracy ${(m.val_accuracy * 100).toFixed(1)}%`);
      if (m.val_r2 != null) bits.push(`val R² ${fmt(m.val_r2, 3)}`);
      if (m.val_mae != null) bits.push(`val MAE ${fmt(m.val_mae, 3)}`);
      if (m.val_perplexity != null) bits.push(`val perplexity ${fmt(m.val_perplexity, 3)}`);
      return `${base} ${bits.join(", ")}.`;
    }
    return run.error ? `${base} ${run.error}` : base;
  }
}
