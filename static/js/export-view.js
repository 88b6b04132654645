/**
 * The export panel: the PyTorch code POST /api/graphs/export returns, unchanged.
 *
 * Two tabs (`module`: the nn.Module; `script`: a runnable training script),
 * highlighted with highlight.js. The highlighted HTML's text is byte-for-byte
 * the server's answer, which is what the copy and download buttons hand over.
 * The "Model file" picker downloads the same network for runtimes instead: ONNX,
 * TorchScript or a torch.export program, with fresh weights from the graph's seed
 * (a finished run's trained weights come from the training panel's links).
 */

import hljs from "@highlightjs/cdn-assets/es/core.min.js";
import python from "@highlightjs/cdn-assets/es/languages/python.min.js";
import { exportCode, exportModelFile } from "./api.js";
import { downloadText, fileSafe } from "./projects.js";

hljs.registerLanguage("python", python);

const MODEL_SUFFIX = { onnx: ".onnx", torchscript: ".pt", "exported-program": ".pt2" };

export function createExportView({ dialog, code, tabs, copyBtn, downloadBtn, modelFormat, modelBtn, status, getGraph, toast }) {
  let format = "module";
  let text = "";

  async function load() {
    code.textContent = "";
    text = "";
    status.textContent = "Generating…";
    code.dataset.format = format;
    code.dataset.state = "loading";
    try {
      text = await exportCode(getGraph(), format);
      code.innerHTML = hljs.highlight(text, { language: "python" }).value;
      status.textContent = `${text.split("\n").length} lines`;
      code.dataset.state = "ready";
    } catch (err) {
      code.textContent = "";
      status.textContent = err.errors?.length
        ? `The graph is not valid yet: ${err.errors.map((e) => (e.node ? `${e.node}: ` : "") + e.message).join("; ")}`
        : `Export failed: ${err.message}`;
      code.dataset.state = "error";
    }
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => {
      format = tab.dataset.format;
      for (const t of tabs) t.setAttribute("aria-selected", String(t === tab));
      load();
    });
  }
  copyBtn.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast("Code copied");
    } catch {
      // Clipboard permission refused (e.g. not a secure context): select the text instead.
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      toast("Press Ctrl+C to copy the selected code");
    }
  });
  downloadBtn.addEventListener("click", () => {
    const base = fileSafe(getGraph().name || "model");
    downloadText(format === "module" ? `${base}.py` : `train_${base}.py`, text, "text/x-python");
  });

  modelBtn?.addEventListener("click", async () => {
    const kind = modelFormat.value;
    const graph = getGraph();
    status.textContent = `Writing the ${modelFormat.selectedOptions[0].textContent} file…`;
    try {
      const blob = await exportModelFile(graph, kind);
      const url = URL.createObjectURL(blob);
      const a = Object.assign(document.createElement("a"), {
        href: url, download: `${fileSafe(graph.name || "model")}${MODEL_SUFFIX[kind]}`,
      });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      status.textContent = `${(blob.size / 1024).toFixed(0)} KB ${kind} file downloaded`;
    } catch (err) {
      status.textContent = `Model file failed: ${err.message}`;
    }
  });

  return {
    async open() {
      if (!dialog.open) dialog.showModal();
      await load();
    },
  };
}
