/**
 * The run history: every run with its status, dataset, final metrics and
 * time; open one to see its charts, pick one to overlay on the open run,
 * or put its graph back on the canvas.
 */
import {el, fmt, errorText} from "./dom.js";
import {listRuns, renameRun} from "../api.js";

function when(run) {
  const t = run.created ?? run.created_at ?? run.started ?? run.started_at;
  if (t === undefined || t === null) return "";
  const d = typeof t === "number" ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString(undefined, {dateStyle: "short", timeStyle: "short"});
}

function metrics(run) {
  const m = run.final_metrics || run.metrics || {};
  const bits = [];
  if (m.val_accuracy != null) bits.push(`acc ${(m.val_accuracy * 100).toFixed(1)}%`);
  if (m.val_r2 != null) bits.push(`R² ${fmt(m.val_r2, 3)}`);
  if (m.val_perplexity != null) bits.push(`ppl ${fmt(m.val_perplexity, 3)}`);
  if (m.val_loss != null) bits.push(`val loss ${fmt(m.val_loss, 3)}`);
  return bits.join(" · ");
}

export const runDataset = (run) => run.dataset ?? run.graph?.data?.dataset ?? "";

export class RunHistory {
  /** hooks: onOpen(id), onCompare(id|null), onRestore(id), onDelete(id) */
  constructor(container, hooks) {
    this.hooks = hooks;
    this.openId = null;
    this.compareId = null;
    this.runs = [];
    this.filter = "";
    this.list = el("ul", {class: "tp-runs", "data-testid": "runs", "aria-label": "Past runs"});
    this.empty = el("p", {class: "tp-caption"}, "No runs yet.");
    this.filterSelect = el("select", {"data-testid": "runs-filter", "aria-label": "Show the runs of",
      onchange: () => { this.filter = this.filterSelect.value; this.render(); }});
    container.append(el("div", {class: "tp-chart-title"}, el("h3", {}, "Runs"), this.filterSelect), this.empty, this.list);
  }

  async refresh() {
    try {
      const answer = await listRuns();
      this.runs = Array.isArray(answer) ? answer : answer?.runs || [];
    } catch (err) {
      this.empty.textContent = `Could not list runs: ${errorText(err)}`;
      return this.runs;
    }
    this.render();
    return this.runs;
  }

  setOpen(id) { this.openId = id; if (id === this.compareId) this.compareId = null; this.render(); }

  /** Delete asks twice (the button turns into "Really delete?"), without a modal dialog. */
  _deleteButton(id) {
    const button = el("button", {type: "button", class: "tp-danger", "data-testid": `delete-${id}`,
      onclick: async () => {
        if (button.dataset.armed !== "true") {
          button.dataset.armed = "true";
          button.textContent = "Really delete?";
          setTimeout(() => { button.dataset.armed = ""; button.textContent = "Delete"; }, 4000);
          return;
        }
        button.disabled = true;
        await this.hooks.onDelete(id);
        await this.refresh();
      }}, "Delete");
    return button;
  }

  /** The project a run belongs to: the editor project it came from, else its graph's name. */
  static group(run) { return run.project || run.name || ""; }

  _renderFilter() {
    const groups = [...new Set(this.runs.map(RunHistory.group))].filter(Boolean).sort();
    if (this.filter && !groups.includes(this.filter)) this.filter = "";
    this.filterSelect.replaceChildren(el("option", {value: ""}, "All projects"),
      ...groups.map((g) => el("option", {value: g}, g)));
    this.filterSelect.value = this.filter;
  }

  /** Rename in place: the title becomes a text box; Enter saves, Escape cancels. */
  _rename(li, run) {
    const title = li.querySelector(".tp-run-title");
    const box = el("input", {type: "text", value: run.title || "", maxlength: 80, "aria-label": "New name for the run"});
    box.addEventListener("keydown", async (e) => {
      if (e.key === "Escape") { e.stopPropagation(); this.render(); }
      if (e.key !== "Enter") return;
      const label = box.value.trim();
      if (label && label !== run.title) {
        try { await renameRun(run.id, label); }
        catch (err) { this.empty.hidden = false; this.empty.textContent = `Could not rename: ${errorText(err)}`; }
      }
      await this.refresh();
      this.hooks.onRenamed?.(String(run.id));
    });
    title.replaceWith(box);
    box.focus();
    box.select();
  }

  render() {
    this.empty.hidden = this.runs.length > 0;
    this._renderFilter();
    const shown = this.runs.filter((r) => !this.filter || RunHistory.group(r) === this.filter);
    this.list.replaceChildren(...shown.map((run) => {
      const id = String(run.id);
      const open = id === String(this.openId);
      const compared = id === String(this.compareId);
      const li = el("li", {class: `tp-run ${open ? "tp-run-open" : ""}`, "data-testid": `run-${id}`},
        el("div", {class: "tp-run-main"},
          el("span", {class: `tp-status tp-status-${run.status}`}, run.status),
          el("span", {class: "tp-run-title", title: `run ${id}`}, run.title || `#${id} ${runDataset(run)}`),
          el("span", {class: "tp-run-metrics"}, metrics(run)),
          el("time", {class: "tp-run-time"}, when(run))),
        run.error ? el("div", {class: "tp-run-error"}, run.error) : null,
        el("div", {class: "tp-run-actions"},
          el("button", {type: "button", "data-testid": `open-${id}`, disabled: open,
            onclick: () => this.hooks.onOpen(id)}, open ? "Shown" : "Show"),
          el("button", {type: "button", "data-testid": `compare-${id}`, disabled: open, "aria-pressed": String(compared),
            onclick: () => { this.compareId = compared ? null : id; this.render(); this.hooks.onCompare(this.compareId); }},
          compared ? "Stop comparing" : "Compare"),
          el("button", {type: "button", "data-testid": `restore-${id}`,
            onclick: () => this.hooks.onRestore(id)}, "Restore graph"),
          el("button", {type: "button", "data-testid": `rename-${id}`,
            onclick: () => this._rename(li, run)}, "Rename"),
          this._deleteButton(id)));
      return li;
    }));
  }
}
