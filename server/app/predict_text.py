"""Try-it for models that read token ids: typed text in, an answer in words out.

Text is encoded with the vocabulary the run kept in its checkpoint (a text CSV
through `textfile.encode_text`, exactly as training encoded it; a generated
sequence task or the character corpus one character per token). A classifier
answers class probabilities; a per-position model (reverse) the text it emits;
a language model samples a continuation of the prompt, one token at a time from
the softmax of its last position's scores divided by the temperature, reading at
most the window length it was trained on. Length and temperature are bounded.
"""

from __future__ import annotations

from typing import Any

import torch

MAX_CONTINUATION = 500
TEMPERATURE = (0.05, 5.0)
MAX_TEXT = 10_000  # characters of typed text read at most


class TextError(ValueError):
    """Typed text the model cannot take, said so the person can fix it."""


def encode(text: str, info: Any, vocab: list[str]) -> tuple[list[int], list[str]]:
    """(ids, the tokens as the model sees them) for typed text."""
    if not isinstance(text, str):
        raise TextError("this model reads text: send the input as a string")
    text = text[:MAX_TEXT]
    if info.kind == "text":  # an uploaded CSV's text column: words or characters, <unk> known
        from server.datasets.textfile import encode_text, tokenize

        length = int(info.input_shape[0])
        ids = encode_text(text, vocab, info.tokens, length).tolist()
        shown = [vocab[i] for i in ids[:len(tokenize(text, info.tokens))]]
        return ids, shown
    index = {t: i for i, t in enumerate(vocab)}
    unknown = sorted({c for c in text if c not in index})
    if unknown:
        known = "".join(vocab) if len(vocab) <= 60 else "".join(vocab[:60]) + "..."
        raise TextError(f"the model does not know {''.join(unknown)[:20]!r}; it knows "
                        f"only {known!r}")
    if not text:
        raise TextError("type some text first")
    limit = int(info.input_shape[0])
    if len(text) > limit and not info.language_model:
        raise TextError(f"the model reads at most {limit} characters; this text has "
                        f"{len(text)}")
    return [index[c] for c in text], list(text)


def _scores(model: Any, ids: list[int], pick: int) -> torch.Tensor:
    out = model(torch.tensor([ids], dtype=torch.long))
    return out[pick] if isinstance(out, tuple | list) else out


def per_position(out: torch.Tensor, length: int, classes: int) -> torch.Tensor:
    """(T, C) scores of one sample from (1, T, C) or (1, C, T)."""
    out = out[0]
    if out.shape == (length, classes):
        return out
    return out.transpose(0, 1)


def answer(model: Any, info: Any, vocab: list[str], text: Any, pick: int,
           probabilities_fn: Any, length: int | None, temperature: float | None,
           seed: int | None) -> dict[str, Any]:
    """The answer for typed text; see the module docstring."""
    ids, tokens = encode(text, info, vocab)
    classes = list(info.class_names)
    with torch.no_grad():
        if info.language_model:
            return {"text": continuation(model, info, ids, pick, length, temperature, seed),
                    "prompt": text}
        out = _scores(model, ids, pick)
        if info.per_token:
            best = per_position(out, len(ids), len(classes)).argmax(dim=1).tolist()
            return {"text": "".join(classes[i] for i in best), "tokens": tokens}
    probs = probabilities_fn(out)[0].tolist()
    return {"probabilities": probs, "labels": classes[:len(probs)], "tokens": tokens}


def continuation(model: Any, info: Any, ids: list[int], pick: int, length: int | None,
                 temperature: float | None, seed: int | None) -> str:
    """`length` characters sampled after the prompt `ids`."""
    length = 200 if length is None else length
    temperature = 0.8 if temperature is None else temperature
    if not 1 <= length <= MAX_CONTINUATION:
        raise TextError(f"length must be 1 to {MAX_CONTINUATION} characters, got {length}")
    if not TEMPERATURE[0] <= temperature <= TEMPERATURE[1]:
        raise TextError(f"temperature must be {TEMPERATURE[0]} to {TEMPERATURE[1]}, "
                        f"got {temperature}")
    window, classes = int(info.input_shape[0]), list(info.class_names)
    gen = torch.Generator()
    gen.manual_seed(0 if seed is None else seed)
    context, made = list(ids), []
    for _ in range(length):
        recent = context[-window:]
        scores = per_position(_scores(model, recent, pick), len(recent), len(classes))[-1]
        p = torch.softmax(scores.float() / temperature, dim=0)
        nxt = int(torch.multinomial(p, 1, generator=gen))
        context.append(nxt)
        made.append(classes[nxt])
    return "".join(made)
