/**
 * The validation confusion matrix as a table: rows are true classes, columns
 * predicted ones; each cell is shaded by its share of its row, so a weak class
 * shows up as a pale diagonal cell whatever the class sizes are.
 */
import {el} from "./dom.js";

export class ConfusionView {
  constructor(container) {
    this.box = el("div", {class: "tp-confusion", "data-testid": "confusion", "data-epoch": "0"},
      el("p", {class: "tp-caption"}, "The confusion matrix appears after the first epoch."));
    this.wrap = el("div", {class: "tp-diag", hidden: true}, el("h4", {}, "Validation confusion matrix"), this.box);
    container.append(this.wrap);
  }

  setVisible(visible) { this.wrap.hidden = !visible; }

  clear() {
    this.box.dataset.epoch = "0";
    this.box.replaceChildren(el("p", {class: "tp-caption"}, "The confusion matrix appears after the first epoch."));
  }

  show(event) {
    if (!event) return this.clear();
    const labels = event.labels || event.matrix.map((_, i) => String(i));
    const table = el("table", {class: "tp-matrix"},
      el("caption", {}, `Epoch ${event.epoch}: rows are true classes, columns predictions`),
      el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "true \\ pred"),
        labels.map((l) => el("th", {scope: "col"}, l)))));
    const body = el("tbody");
    event.matrix.forEach((row, i) => {
      const total = row.reduce((a, b) => a + (b || 0), 0) || 1;
      body.append(el("tr", {}, el("th", {scope: "row"}, labels[i]), row.map((n, j) => {
        const share = (n || 0) / total;
        // Right answers in the "good" hue, mistakes in the "bad" one.
        const cls = i === j ? "tp-hit" : n ? "tp-miss" : "";
        return el("td", {class: cls, style: `--share:${share.toFixed(3)}`,
          title: `true ${labels[i]}, predicted ${labels[j]}: ${n} (${Math.round(share * 100)}% of the row)`}, n);
      })));
    });
    table.append(body);
    this.box.dataset.epoch = String(event.epoch);
    this.box.replaceChildren(table);
  }
}
