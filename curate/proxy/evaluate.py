"""Evaluate a proxy model: held-out bits per byte per domain, and zero-shot multiple choice.

Why these metrics: bits per byte does not depend on the tokenizer, so it compares any two models on the
same text. For benchmarks, DataDecide finds that small-model rankings predict large-model rankings best
with continuous metrics, so next to lm-eval-harness ``acc`` and ``acc_norm`` (log-likelihood divided by
the continuation's UTF-8 bytes) we report ``correct_prob`` — the softmax over the choices of their summed
log-likelihoods, taken at the correct one — ``margin``, the correct choice's log-likelihood minus the
best wrong one's, and ``gold_bpb`` (OLMES, DataDecide), the bits per UTF-8 byte of the gold continuation
after its context: lower is better, and it moves smoothly long before a tiny model rises above chance. Tasks with a single continuation (LAMBADA) report ``acc`` as "the greedy decode is the
target" and ``correct_prob`` as the target's probability.

The scoring rules (:func:`score_choices`) are plain numpy on log-likelihoods, testable by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

from curate.core.tokenizer import encode
from curate.proxy.data import EvalDocs
from curate.proxy.evalsets import McItem
from curate.proxy.model import ProxyModel
from curate.proxy.tokenizer import eod_id

MC_METRICS = ("acc", "acc_norm", "correct_prob", "margin", "gold_bpb")
#: Metrics of a benchmark item where lower is better.
MC_LOWER_BETTER = ("gold_bpb",)


@torch.no_grad()
def continuation_logprobs(
    model: ProxyModel, requests: list[tuple[list[int], list[int]]], batch_size: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Summed log-probability of each continuation after its context, and whether greedy decoding gives it.

    Sequences longer than the model's context lose tokens from the left of the context (lm-eval's rule).
    Requests run longest first in padded batches; padding sits after the tokens, so causal attention
    never sees it.
    """
    device = next(model.parameters()).device
    ctx_len = model.config.context
    model.eval()
    sums = np.zeros(len(requests), dtype=np.float64)
    greedy = np.zeros(len(requests), dtype=bool)
    seqs = []
    for context, cont in requests:
        if not cont:
            raise ValueError("a continuation must have at least one token")
        ids = (list(context) + list(cont))[-(ctx_len + 1) :]
        seqs.append((ids, min(len(cont), len(ids) - 1)))
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i][0]))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        width = max(len(seqs[i][0]) for i in chunk) - 1
        x = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, i in enumerate(chunk):
            ids = seqs[i][0]
            x[row, : len(ids) - 1] = torch.tensor(ids[:-1])
        logp = F.log_softmax(model(x.to(device)).float(), dim=-1)  # (B, T, V)
        for row, i in enumerate(chunk):
            ids, n = seqs[i]
            t = len(ids) - 1
            targets = torch.tensor(ids[t - n + 1 :], device=device)  # the continuation's tokens
            rows = logp[row, t - n : t]  # (n, V): predictions for them
            sums[i] = float(rows.gather(1, targets[:, None]).sum())
            greedy[i] = bool((rows.argmax(-1) == targets).all())
    return sums, greedy


def bits_per_byte(model: ProxyModel, tokenizer: Tokenizer, docs: EvalDocs, batch_size: int = 16) -> dict:
    """Per-domain and overall bits per byte of held-out documents: sum of NLL / ln 2 / UTF-8 bytes.

    Every document is scored on its own, preceded by ``<|endoftext|>`` as in training; one longer than the
    context is cut into windows of ``context`` predicted tokens, each conditioned on its window only.
    Returns ``{"domains": {name: bpb}, "all": bpb, "doc_nll": [...], "doc_bytes": [...], "doc_domains": [...]}``
    so that callers can bootstrap over documents.
    """
    ctx = model.config.context
    eod = eod_id(tokenizer)
    requests, owner = [], []
    for d, toks in enumerate(docs.tokens):
        seq = [eod, *toks.tolist()]
        for s in range(0, len(seq) - 1, ctx):
            window = seq[s : s + ctx + 1]
            requests.append((window[:1], window[1:]))
            owner.append(d)
    logp, _ = continuation_logprobs(model, requests, batch_size) if requests else (np.zeros(0), None)
    nll = np.zeros(len(docs.tokens))
    np.add.at(nll, np.asarray(owner, dtype=np.int64), -logp)
    domains = {}
    for name in sorted(set(docs.domains.tolist())):
        m = docs.domains == name
        domains[name] = float(nll[m].sum() / math.log(2) / max(1, docs.n_bytes[m].sum()))
    return {
        "domains": domains,
        "all": float(nll.sum() / math.log(2) / max(1, docs.n_bytes.sum())),
        "doc_nll": nll.tolist(),
        "doc_bytes": docs.n_bytes.tolist(),
        "doc_domains": docs.domains.tolist(),
    }


def score_choices(loglik: np.ndarray, gold: int, cont_bytes: np.ndarray, greedy: np.ndarray | None = None) -> dict:
    """The metrics of one item from its choices' summed log-likelihoods (lm-eval conventions).

    acc: argmax of loglik is gold. acc_norm: argmax of loglik / UTF-8 bytes of the continuation is gold.
    correct_prob: softmax(loglik)[gold]. margin: loglik[gold] - max of the others.
    gold_bpb: -loglik[gold] / ln 2 / UTF-8 bytes of the gold continuation. n_choices: for chance levels.
    A single-choice item (LAMBADA) scores acc = acc_norm = greedy match, correct_prob = exp(loglik).
    """
    loglik = np.asarray(loglik, dtype=np.float64)
    gold_bpb = float(-loglik[gold] / math.log(2) / max(1, int(np.asarray(cont_bytes)[gold])))
    if len(loglik) == 1:
        hit = float(bool(greedy[0])) if greedy is not None else float("nan")
        return {"acc": hit, "acc_norm": hit, "correct_prob": float(np.exp(loglik[0])), "margin": float("nan"), "gold_bpb": gold_bpb, "n_choices": 1.0}
    probs = np.exp(loglik - loglik.max())
    probs /= probs.sum()
    others = np.delete(loglik, gold)
    return {
        "acc": float(int(np.argmax(loglik)) == gold),
        "acc_norm": float(int(np.argmax(loglik / np.maximum(1, np.asarray(cont_bytes)))) == gold),
        "correct_prob": float(probs[gold]),
        "margin": float(loglik[gold] - others.max()),
        "gold_bpb": gold_bpb,
        "n_choices": float(len(loglik)),
    }


def mc_requests(tokenizer: Tokenizer, item: McItem) -> list[tuple[list[int], list[int]]]:
    """Token requests of an item, lm-eval style: trailing spaces of a context move to the continuation,
    and the continuation's tokens are those of context+continuation after the context's own tokens."""
    out = []
    eod = eod_id(tokenizer)
    for context, cont in zip(item.contexts, item.continuations):
        stripped = context.rstrip(" ")
        cont = context[len(stripped) :] + cont
        ctx_ids = encode(tokenizer, [stripped])[0].tolist() if stripped else []
        whole = encode(tokenizer, [stripped + cont])[0].tolist()
        cont_ids = whole[len(ctx_ids) :] if whole[: len(ctx_ids)] == ctx_ids else encode(tokenizer, [cont])[0].tolist()
        out.append(([eod, *ctx_ids], cont_ids))
    return out


@dataclass
class TaskScores:
    task: str
    per_item: dict[str, np.ndarray]  # metric -> value of each item

    def summary(self) -> dict:
        return {"n": len(self.per_item["acc"]), **{m: float(np.nanmean(self.per_item[m])) if np.isfinite(self.per_item[m]).any() else None for m in MC_METRICS}}


def evaluate_items(model: ProxyModel, tokenizer: Tokenizer, items: list[McItem], batch_size: int = 32) -> dict[str, TaskScores]:
    """Score every item (all tasks in one batched pass) and group the per-item metrics by task."""
    requests, spans = [], []
    for item in items:
        reqs = mc_requests(tokenizer, item)
        spans.append((len(requests), len(reqs)))
        requests.extend(reqs)
    loglik, greedy = continuation_logprobs(model, requests, batch_size)
    rows: dict[str, dict[str, list[float]]] = {}
    for item, (start, n) in zip(items, spans):
        cont_bytes = np.array([len(c.encode("utf-8")) for c in item.continuations])
        scores = score_choices(loglik[start : start + n], item.gold, cont_bytes, greedy[start : start + n])
        task = rows.setdefault(item.task, {m: [] for m in (*MC_METRICS, "n_choices")})
        for m in (*MC_METRICS, "n_choices"):
            task[m].append(scores[m])
    return {t: TaskScores(t, {m: np.asarray(v, dtype=np.float64) for m, v in r.items()}) for t, r in rows.items()}
