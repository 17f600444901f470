"""A generator of near-duplicate corpora with known Jaccard, shared by the MinHash tests and bench/dedup.py.

Each cluster is a base document plus copies edited by word (or, for Chinese, character) substitutions,
sized so the copy's exact shingle Jaccard to the base lies in ``[dup_low, 1]``. Near misses are copies
edited down to ``[miss_low, miss_high]``: they share text with a base but are *not* duplicates, so they
test precision. Rendering adds capitals and punctuation that normalisation must see through. The corpus is
shuffled, so a cluster's members sit in different units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

LANGS = {
    "en": "abcdefghijklmnoprstuvwy",
    "fr": "abcdeéèfgilmnoprstuàçv",
    "de": "abdefghiklmnorstuäöüßw",
    "zh": None,  # Han characters, no spaces
}


@dataclass
class Corpus:
    """Documents in corpus order, with the truth the generator knows."""

    table: pa.Table  # id, text, lang
    cluster: np.ndarray  # cluster index per document (near misses and singletons: their own)
    jaccard: np.ndarray  # exact shingle Jaccard to the cluster's base (1.0 for bases)
    near_miss: np.ndarray  # True where a document was edited down to below the threshold on purpose

    def truth_removed(self) -> np.ndarray:
        """Documents a perfect deduplicator drops: every member of a cluster but the first in corpus order."""
        _, first = np.unique(self.cluster, return_index=True)
        removed = np.ones(len(self.cluster), dtype=bool)
        removed[first] = False
        return removed


def _vocab(rng: np.random.Generator, lang: str, size: int) -> list[str]:
    if LANGS[lang] is None:
        return [chr(0x4E00 + int(c)) for c in rng.choice(6000, size, replace=False)]
    letters = list(LANGS[lang])
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters, int(rng.integers(2, 10)))))
    return sorted(words)


def _shingles(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    if len(tokens) < n:
        return {tuple(tokens)}
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def jaccard(a: list[str], b: list[str], n: int) -> float:
    """Exact Jaccard of two token lists' n-gram shingle sets."""
    sa, sb = _shingles(a, n), _shingles(b, n)
    return len(sa & sb) / len(sa | sb)


def _edited(rng, base: list[str], vocab: list[str], weights, n: int, low: float, high: float) -> tuple[list[str], float]:
    """A copy of ``base`` with substitutions until its Jaccard to the base is at most ``high``, never below ``low``.

    Where one more substitution would jump below ``low`` (short documents), the copy stops above ``high``.
    """
    doc, j, cap = list(base), 1.0, len(base)
    while j > high:
        step = max(1, min(cap, int(len(doc) * (j - high) / (4 * n))))
        trial = list(doc)
        for p in rng.choice(len(doc), step, replace=False):
            trial[p] = vocab[int(rng.choice(len(vocab), p=weights))]
        tj = jaccard(base, trial, n)
        if tj < low:
            if step == 1:
                break
            cap = step // 2
            continue
        doc, j = trial, tj
    return doc, j


def _render(rng: np.random.Generator, tokens: list[str], lang: str) -> str:
    if lang == "zh":
        out = []
        for i, t in enumerate(tokens):
            out.append(t)
            if i % 17 == 16:
                out.append("，" if rng.random() < 0.7 else "。")
        return "".join(out)
    words = []
    for i, t in enumerate(tokens):
        if i % 13 == 0:
            t = t.capitalize()
        if i % 13 == 12:
            t += "." if rng.random() < 0.6 else ","
        words.append(t)
    return " ".join(words)


def near_duplicate_corpus(
    clusters: int = 300,
    seed: int = 0,
    dup_share: float = 0.4,
    max_copies: int = 4,
    miss_share: float = 0.15,
    dup_low: float = 0.87,
    miss_range: tuple[float, float] = (0.3, 0.6),
    word_n: int = 5,
    char_n: int = 5,
    langs: tuple[str, ...] = ("en", "fr", "de", "zh"),
) -> Corpus:
    """A shuffled corpus of ``clusters`` bases; ``dup_share`` of them get 1..max_copies near-duplicates."""
    rng = np.random.default_rng(seed)
    vocabs = {lang: _vocab(rng, lang, 3000) for lang in langs}
    zipf = 1.0 / np.arange(1, 3001) ** 0.8
    weights = zipf / zipf.sum()
    docs: list[tuple[str, str, int, float, bool]] = []
    for c in range(clusters):
        lang = langs[c % len(langs)]
        n = char_n if lang == "zh" else word_n
        vocab = vocabs[lang]
        length = int(rng.integers(250, 700)) if lang == "zh" else int(rng.integers(80, 400))
        base = [vocab[int(i)] for i in rng.choice(len(vocab), length, p=weights)]
        docs.append((lang, _render(rng, base, lang), c, 1.0, False))
        if rng.random() < dup_share:
            for _ in range(int(rng.integers(1, max_copies + 1))):
                high = float(rng.uniform(dup_low + 0.03, 0.99))
                doc, j = _edited(rng, base, vocab, weights, n, dup_low, high) if rng.random() < 0.9 else (base, 1.0)
                docs.append((lang, _render(rng, doc, lang), c, j, False))
        if rng.random() < miss_share:
            doc, j = _edited(rng, base, vocab, weights, n, *miss_range)
            docs.append((lang, _render(rng, doc, lang), clusters + len(docs), j, True))
    order = rng.permutation(len(docs))
    docs = [docs[i] for i in order]
    table = pa.table(
        {
            "id": [f"doc{i:06d}" for i in range(len(docs))],
            "text": [d[1] for d in docs],
            "lang": [d[0] for d in docs],
        }
    )
    return Corpus(
        table,
        np.array([d[2] for d in docs]),
        np.array([d[3] for d in docs]),
        np.array([d[4] for d in docs]),
    )


def precision_recall(removed: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Precision and recall of the removed documents against the generator's truth (boolean masks)."""
    hit = int((removed & truth).sum())
    return hit / max(int(removed.sum()), 1), hit / max(int(truth.sum()), 1)
