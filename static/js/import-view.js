/**
 * Import into the canvas, inside the Templates dialog: a torchvision architecture
 * from the zoo list, or an ONNX file from the user's computer. The server maps
 * them to catalogue nodes (POST /api/import/zoo/{name}, /api/import/onnx) and the
 * graph opens like a template. A `.py` model would run the user's code, so the
 * page never imports one: the hint points to `torchcanvas import` instead.
 */

import { importOnnx, importZoo, listZoo } from "./api.js";

export function createImportView({ zooSelect, zooButton, onnxInput, onnxButton, status, onGraph }) {
  let loaded = false;

  async function fillZoo() {
    if (loaded) return;
    try {
      const { models } = await listZoo();
      zooSelect.replaceChildren(...models.map((m) => Object.assign(document.createElement("option"), { value: m, textContent: m })));
      zooSelect.value = models.includes("resnet18") ? "resnet18" : models[0];
      loaded = true;
    } catch (err) {
      status.textContent = `The model zoo is unavailable: ${err.message}`;
    }
  }

  async function run(label, request) {
    status.textContent = `Importing ${label}…`;
    status.dataset.state = "busy";
    try {
      const { graph } = await request();
      status.textContent = "";
      status.dataset.state = "done";
      onGraph(graph, label);
    } catch (err) {
      const missing = (err.errors || []).slice(0, 6).map((e) => e.message);
      const more = (err.errors || []).length > 6 ? ` (and ${err.errors.length - 6} more)` : "";
      status.textContent = `Cannot import ${label}: ${err.message.replace(/^\d+: /, "")}`
        + (missing.length ? ` — ${missing.join("; ")}${more}` : "");
      status.dataset.state = "error";
    }
  }

  zooButton.addEventListener("click", () => run(zooSelect.value, () => importZoo(zooSelect.value)));
  onnxButton.addEventListener("click", () => onnxInput.click());
  onnxInput.addEventListener("change", () => {
    const file = onnxInput.files[0];
    onnxInput.value = "";
    if (file) run(file.name, () => importOnnx(file));
  });

  return { fillZoo };
}
