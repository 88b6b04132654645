"""How fast the sequence tasks train in-process on one CPU thread, and to what quality.

Prints seconds and the last epoch's validation metric for: the character
language model (Embedding -> LSTM -> per-token Linear) on both corpora, an LSTM
on 4-bit parity, and the Siamese network on anagrams. Asserts nothing.
Run: `python benchmarks/sequence_training.py`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.datasets import describe_dataset  # noqa: E402
from server.training.loop import train  # noqa: E402
from tests.training.graphs import char_lm, lstm_classifier, siamese  # noqa: E402


def timed(name: str, graph: dict, metric: str) -> None:
    events: list[dict] = []
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        status = train(graph, out, events.append, log=lambda message: None)
        seconds = time.perf_counter() - start
    epochs = [e for e in events if e["type"] == "epoch"]
    value = epochs[-1][metric] if epochs else None
    shown = f"{value:.3f}" if isinstance(value, float) else value
    print(f"{name:38s} {status:9s} {len(epochs)} epochs {seconds:6.1f} s   {metric} {shown}")


def main() -> None:
    torch.set_num_threads(1)
    for corpus in ("zen", "stdlib_docs"):
        vocab = describe_dataset("charlm", {"corpus": corpus}).vocab_size
        timed(f"charlm {corpus} (2000 x 32 chars)",
              char_lm(vocab, params={"corpus": corpus}, epochs=5, hidden=64), "val_perplexity")
    timed("parity 4 bits, LSTM 32 (seed 1)",
          lstm_classifier(params={"n_samples": 400}, epochs=15, hidden=32, lr=0.01,
                          batch_size=16, seed=1), "val_accuracy")
    timed("anagrams, Siamese EmbeddingBag", siamese(n_samples=2000, epochs=3), "val_accuracy")


if __name__ == "__main__":
    main()
