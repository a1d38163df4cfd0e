"""Text task engines of the HF stand-in: classification, NER, QA, tables, embeddings, generation...

Answers are deterministic and follow the input: sentiment from a small lexicon, QA spans taken from the
context, table answers from the cells the query names, bag-of-words embeddings so similar texts score higher.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from tests.stand_ins import media
from tests.stand_ins.hf_call import (
    STOP,
    Call,
    InputError,
    embed,
    jitter,
    ranked,
    require_field,
    require_text,
    words,
)

POSITIVE = frozenset((
    "love", "loved", "like", "liked", "good", "great", "happy", "excellent", "wonderful", "amazing",
    "best", "enjoy", "nice",
))  # fmt: skip
NEGATIVE = frozenset((
    "hate", "hated", "bad", "terrible", "awful", "worst", "sad", "angry", "horrible", "boring", "poor",
    "disappointing",
))  # fmt: skip
_WORDS = {
    "fr": {"hello": "bonjour", "world": "monde", "the": "le", "cat": "chat", "dog": "chien", "is": "est",
           "and": "et", "good": "bon", "morning": "matin", "thank": "merci", "you": "vous", "house": "maison"},
    "de": {"hello": "hallo", "world": "welt", "the": "die", "cat": "katze", "dog": "hund", "is": "ist",
           "and": "und", "good": "gut", "morning": "morgen", "thank": "danke", "you": "dir", "house": "haus"},
    "es": {"hello": "hola", "world": "mundo", "the": "el", "cat": "gato", "dog": "perro", "is": "es",
           "and": "y", "good": "bueno", "morning": "mañana", "thank": "gracias", "you": "tú", "house": "casa"},
}  # fmt: skip
_CONTINUATIONS = [
    "and the results were better than anyone expected. The team decided to share the findings with the "
    "community so that others could build on them.",
    "which is why it is important to think carefully about each step. In the end, a simple plan often works "
    "best, and it can be improved over time.",
    "as the sun rose over the quiet village. Everyone gathered in the square to hear the news, and the day "
    "began with a sense of hope.",
]


def text_classification(call: Call) -> list[list[dict[str, Any]]]:
    text = require_text(call)
    toks = words(text)
    mood = sum(t in POSITIVE for t in toks) - sum(t in NEGATIVE for t in toks)
    labels = call.knobs.get("labels") or ["POSITIVE", "NEGATIVE"]
    weights = {label: jitter("tc", text, label) for label in labels}
    lower = {label.lower(): label for label in labels}
    good, bad = lower.get("positive", lower.get("joy")), lower.get("negative", lower.get("sadness"))
    if mood > 0 and good:
        weights[good] += 6
    elif mood < 0 and bad:
        weights[bad] += 6
    elif "neutral" in lower:
        weights[lower["neutral"]] += 4
    elif good:
        weights[good] += 2
    return [ranked(weights, call.param("top_k"))]


def zero_shot_classification(call: Call) -> list[dict[str, Any]]:
    text = require_text(call)
    labels = call.param("candidate_labels")
    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",") if part.strip()]
    if not isinstance(labels, list) or not labels:
        raise InputError("Input validation error: `parameters.candidate_labels` is required")
    toks = set(words(text))
    raw = {
        str(label): 3.0 * len(set(words(str(label))) & toks) + jitter("zs", text, label) for label in labels
    }
    if call.param("multi_label"):
        scored = [{"label": k, "score": round(1 / (1 + math.exp(2.5 - v)), 6)} for k, v in raw.items()]
        return sorted(scored, key=lambda item: -item["score"])
    return ranked(raw)


def token_classification(call: Call) -> list[dict[str, Any]]:
    text = require_text(call)
    places = {
        "paris",
        "london",
        "berlin",
        "france",
        "germany",
        "new york",
        "tokyo",
        "rome",
        "madrid",
        "europe",
    }
    orgs = {"google", "microsoft", "apple", "hugging face", "amazon", "meta", "openai", "nasa", "un"}
    out = []
    for match in re.finditer(r"\b[A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)*", text):
        word = match.group(0)
        start = match.start()
        if word.lower() in STOP or (word.split()[0].lower() in STOP and len(word.split()) == 1):
            continue
        group = "LOC" if word.lower() in places else "ORG" if word.lower() in orgs else "PER"
        score = round(0.95 + 0.049 * jitter("ner", word), 6)
        out.append({"entity_group": group, "score": score, "word": word, "start": start, "end": match.end()})
    if call.param("aggregation_strategy") == "none":
        return [{"entity": f"B-{e['entity_group']}", "score": e["score"], "index": i + 1, "word": e["word"],
                 "start": e["start"], "end": e["end"]} for i, e in enumerate(out)]  # fmt: skip
    return out


def fill_mask(call: Call) -> list[dict[str, Any]]:
    text = require_text(call)
    mask = call.knobs.get("mask_token", "[MASK]")
    if mask not in text:
        raise InputError(f"No mask_token ({mask}) found on the input", 400)
    toks = set(words(text))
    targets = call.param("targets")
    if targets:
        candidates = [targets] if isinstance(targets, str) else list(targets)
    elif "capital" in toks:
        candidates = ["paris", "london", "berlin", "rome", "madrid"]
    elif toks & {"color", "colour", "sky"}:
        candidates = ["blue", "red", "green", "white", "black"]
    else:
        candidates = ["the", "a", "good", "new", "great"]
    weights = {word: 4.0 - i + jitter("fm", text, word) for i, word in enumerate(candidates)}
    best = ranked(weights, call.param("top_k", 5), key="token_str")
    return [{"score": item["score"], "token": media.stable_int("tok", item["token_str"]) % 30000,
             "token_str": item["token_str"], "sequence": text.replace(mask, item["token_str"], 1)}
            for item in best]  # fmt: skip


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^.!?]+[.!?]?", text) if m.group(0).strip()]


def _span(question: str, context: str) -> tuple[str, int, int]:
    asked = set(words(question)) - STOP
    spans = _sentences(context) or [(0, len(context))]
    start, end = max(spans, key=lambda s: (len(asked & set(words(context[s[0] : s[1]]))), -s[0]))
    sentence = context[start:end]
    q = question.lower()
    patterns = []
    if q.startswith(("how many", "how much", "when", "what year")):
        patterns.append(r"\$?\d[\d,.:]*")
    if q.startswith(("who", "where")):
        patterns.append(r"\b[A-Z][^\W\d_]+(?:\s+[A-Z][^\W\d_]+)*")
    patterns.append(r"\b[\w'-]+(?:\s+[\w'-]+)*")
    for pattern in patterns:
        for match in re.finditer(pattern, sentence):
            kept = [w for w in match.group(0).split() if w.lower() not in asked and w.lower() not in STOP]
            if kept:
                phrase = match.group(0)
                first = phrase.find(kept[0])
                last = phrase.rfind(kept[-1]) + len(kept[-1])
                return (
                    phrase[first:last].strip(" ,."),
                    start + match.start() + first,
                    start + match.start() + last,
                )
    return sentence.strip(), start, end


def question_answering(call: Call) -> dict[str, Any] | list[dict[str, Any]]:
    question, context = require_field(call, "question"), require_field(call, "context")
    answer, start, end = _span(question, context)
    best = {
        "answer": answer,
        "score": round(0.8 + 0.19 * jitter("qa", question), 6),
        "start": start,
        "end": end,
    }
    top_k = int(call.param("top_k", 1))
    if top_k <= 1:
        return best
    others = [{"answer": context[start:end].split()[0], "score": 0.01, "start": start,
               "end": start + len(context[start:end].split()[0])}]  # fmt: skip
    return [best, *others][:top_k]


def table_question_answering(call: Call) -> dict[str, Any]:
    query, table = require_field(call, "query"), require_field(call, "table", dict)
    columns = list(table)
    cells = {c: [str(v) for v in table[c]] for c in columns}
    if len({len(v) for v in cells.values()}) != 1:
        raise InputError("Input validation error: every table column must have the same number of rows")
    q = query.lower()
    row = next((r for r in range(len(cells[columns[0]])) for c in columns if cells[c][r].lower() in q), None)

    def numeric(c: str) -> bool:
        return all(re.fullmatch(r"-?[\d,.]+", v) for v in cells[c])

    named = [c for c in columns if c.lower() in q]
    column = next((c for c in named if row is None or cells[c][row].lower() not in q), None)
    column = column or next((c for c in reversed(columns) if numeric(c)), columns[-1])
    col = columns.index(column)
    if row is not None:
        value = cells[column][row]
        return {"answer": value, "coordinates": [[row, col]], "cells": [value], "aggregator": "NONE"}
    aggregator = "SUM" if ("total" in q or "sum" in q) else "AVERAGE" if "average" in q else "COUNT"
    aggregator = aggregator if ("how many" in q or aggregator != "COUNT") else "NONE"
    values = cells[column] if aggregator != "NONE" else cells[column][:1]
    return {"answer": f"{aggregator} > {', '.join(values)}" if aggregator != "NONE" else values[0],
            "coordinates": [[r, col] for r in range(len(values))], "cells": values, "aggregator": aggregator}  # fmt: skip


def _table(call: Call) -> dict[str, list[Any]]:
    table = call.payload.get("table")
    if table is None and isinstance(call.inputs, dict):
        table = call.inputs.get("data", call.inputs.get("table"))
    if not isinstance(table, dict) or not table or not all(isinstance(v, list) for v in table.values()):
        raise InputError("Input validation error: `table` must map column names to lists of values")
    if len({len(v) for v in table.values()}) != 1:
        raise InputError("Input validation error: every table column must have the same number of rows")
    return table


def tabular_classification(call: Call) -> list[Any]:
    table = _table(call)
    labels = call.knobs.get("labels") or [0, 1]
    rows = zip(*table.values(), strict=True)
    return [labels[media.stable_int("tab", row) % len(labels)] for row in rows]


def tabular_regression(call: Call) -> list[float]:
    table = _table(call)
    return [
        round(10 + (media.stable_int("reg", row) % 10_000) / 100, 2)
        for row in zip(*table.values(), strict=True)
    ]


def summarization(call: Call) -> list[dict[str, str]]:
    text = require_text(call)
    spans = _sentences(text)
    summary = text[spans[0][0] : spans[0][1]].strip() if spans else text
    toks = summary.split()
    if len(toks) > 40:
        summary = " ".join(toks[:40])
    return [{"summary_text": summary}]


def translation(call: Call) -> list[dict[str, str]]:
    text = require_text(call)
    lang = str(call.param("tgt_lang") or call.knobs.get("lang") or "fr")[:2]
    table = _WORDS.get(lang, {})
    out = re.sub(r"[A-Za-z']+", lambda m: _cased(table.get(m.group(0).lower(), m.group(0)), m.group(0)), text)
    return [{"translation_text": out}]


def _cased(word: str, like: str) -> str:
    return word.capitalize() if like[:1].isupper() else word


def feature_extraction(call: Call) -> list[Any]:
    texts = call.inputs
    if isinstance(texts, str) and texts.strip():
        batch = [texts]
    elif isinstance(texts, list) and texts and all(isinstance(t, str) for t in texts):
        batch = texts
    else:
        raise InputError("Input validation error: `inputs` must be a string or a list of strings")
    dims = int(call.knobs.get("dims", 384))
    if call.knobs.get("pooled", True):
        return [np.round(embed(t, dims), 6).tolist() for t in batch]
    width = max(len(words(t)) for t in batch) + 2
    return [[np.round(embed(w, dims), 5).tolist() for w in ["<s>", *words(t), "</s>"][:width]] for t in batch]


def sentence_similarity(call: Call) -> list[float]:
    source, others = require_field(call, "source_sentence"), require_field(call, "sentences", list)
    dims = int(call.knobs.get("dims", 384))
    anchor = embed(source, dims)
    return [round(float(np.dot(anchor, embed(str(s), dims))), 6) for s in others]


TGI_ONLY = ("details", "return_full_text", "stop", "watermark", "decoder_input_details", "best_of", "grammar",
            "top_n_tokens", "adapter_id", "frequency_penalty")  # fmt: skip


def generated_words(prompt: str) -> list[str]:
    return _CONTINUATIONS[media.stable_int("gen", prompt) % len(_CONTINUATIONS)].split()


def text_generation(call: Call) -> dict[str, Any]:
    """TGI-style: {generated_text, details?}; the server layer wraps it in a list or an SSE stream."""
    prompt = require_text(call)
    if call.knobs.get("tgi") is False:
        unused = [k for k in TGI_ONLY if call.parameters.get(k) not in (None, False, [])]
        if unused:
            listed = ", ".join(repr(k) for k in unused)
            raise InputError(f"The following `model_kwargs` are not used by the model: [{listed}] (note: typos "
                             "in the generate arguments will also show up in this list)", 400)  # fmt: skip
    limit = int(call.param("max_new_tokens", 20))
    if len(prompt.split()) + limit > 8192:
        message = (f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192. Given: "
                   f"{len(prompt.split())} `inputs` tokens and {limit} `max_new_tokens`")  # fmt: skip
        raise InputError(message, 422, {"error": message, "error_type": "validation"})
    pool = generated_words(prompt)
    chosen = pool[:limit]
    text = " " + " ".join(chosen)
    if call.param("return_full_text"):
        text = prompt + text
    details = {
        "finish_reason": "length" if limit < len(pool) else "eos_token",
        "generated_tokens": len(chosen),
        "seed": call.param("seed"),
        "prefill": [],
        "tokens": [
            {"id": media.stable_int("tok", w) % 32000, "text": f" {w}", "logprob": -0.5, "special": False}
            for w in chosen
        ],
    }
    return {"generated_text": text, "details": details}
