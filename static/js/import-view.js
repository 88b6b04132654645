/**
 * Import into the canvas, inside the Templates dialog: a torchvision architecture
 * from the zoo list, or an ONNX file from the user's computer. The server maps
 * them to catalogue nodes (POST /api/import/zoo/{name}, /api/import/onnx) and the
 * graph opens like a template, with the server's validation of it (so the canvas
 * draws every shape at once, without a second round trip). A `.py` model would run the user's code, so the
 * page never imports one: the hint points to `torchcanvas import` instead.
 * "Start weights…" uploads a `.pt` state_dict (POST /api/weights, read with
 * weights_only on the server) and makes it the open graph's `init.weights`.
 */

import { importOnnx, importZoo, listZoo, uploadWeights } from "./api.js";

export function createImportView({ zooSelect, zooButton, onnxInput, onnxButton, status, onGraph,
  weightsInput, weightsButton, weightsStatus, currentGraph, onWeights }) {
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
      const { graph, validation } = await request();
      status.textContent = "";
      status.dataset.state = "done";
      onGraph(graph, label, validation);
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

  weightsButton?.addEventListener("click", () => weightsInput.click());
  weightsInput?.addEventListener("change", async () => {
    const file = weightsInput.files[0];
    weightsInput.value = "";
    if (!file) return;
    weightsStatus.textContent = `Checking ${file.name}…`;
    weightsStatus.dataset.state = "busy";
    try {
      const answer = await uploadWeights(file, currentGraph());
      onWeights(answer.path);
      weightsStatus.textContent = describeFit(answer);
      weightsStatus.dataset.state = "done";
    } catch (err) {
      weightsStatus.textContent = `Cannot use ${file.name}: ${err.message.replace(/^\d+: /, "")}`;
      weightsStatus.dataset.state = "error";
    }
  });

  return { fillZoo };
}

/** "resnet18.pt: 122 of 122 tensors fit" plus what stays fresh (a new head, say). */
function describeFit({ file, tensors, fit }) {
  if (!fit) return `${file}: ${tensors} tensors; the network starts from them where names and shapes match`;
  const fresh = fit.fresh.length ? `; fresh: ${fit.fresh.slice(0, 4).join(", ")}${fit.fresh.length > 4 ? "…" : ""}` : "";
  return `${file}: ${fit.matched} of ${fit.graph_tensors} tensors fit${fresh}. Training starts from them.`;
}
