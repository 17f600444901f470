"""LLM annotation of educational value, the labels quality classifiers are trained on.

FineWeb-Edu and CCI4.0 build their quality classifiers the same way: an instruct LLM rates a sample of
documents for educational value on a 0–5 scale, and a cheap classifier (fastText here, as CCI4.0's) is
trained on those ratings to score the whole corpus. ``annotate`` is the first half: pick a stable sample of
documents (a hash of seed and id), render the English or the Chinese rating prompt by each document's
``lang`` (or a character test when the column is absent), generate with any synthesis engine (vLLM
offline, an OpenAI-compatible server, transformers), and parse the score robustly. The rows written are
``id, text, lang, prompt, score, label, raw``; ``label`` is ``hq`` when ``score >= threshold``, ``lq``
below, null when no score could be read, so ``curate train-classifier --data OUT --label-column label``
trains on them directly.

``score_from="logprobs"`` (:mod:`curate.scorers.edu_logprobs`) reads the score from the next-token
probabilities of the digits 0–5 after the prefilled lead instead: one forward pass per document, no decoding,
and a continuous score (the expected digit, ``float``) in place of the integer; ``raw`` then holds the six
probabilities and ``mass`` their sum. Documents are first cut to ``max_doc_tokens`` tokens.

Memory: the sampled documents (``limit`` of them, cut to ``max_chars``) and their answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import xxhash

from curate.synth.engines import EngineSpec, SamplingSpec

PROMPTS = {
    "en": (
        "Rate how useful the extract below is for teaching, from 0 to 5:\n"
        "0: spam, gibberish, ads or navigation only;\n"
        "1: some information, mixed with noise;\n"
        "2: touches on a topic but is unclear or disorganised;\n"
        "3: clear and useful, like a simple introduction;\n"
        "4: well organised and clearly educational, like a manual or a textbook section;\n"
        "5: outstanding for teaching: thorough, precise and easy to follow.\n\n"
        "Extract:\n{document}\n\n"
        "Reply with the score only: one digit from 0 to 5."
    ),
    "zh": (
        "请评估下面这段文字的教育价值，打分 0 到 5 分：\n"
        "0：垃圾内容、乱码、广告或只有导航；\n"
        "1：有少量信息，但夹杂大量噪声；\n"
        "2：涉及某个主题，但不清楚或缺乏条理；\n"
        "3：清楚有用，像一篇简单的入门介绍；\n"
        "4：条理清晰，有明显的教育意义，像手册或教科书的一节；\n"
        "5：教学价值极高：全面、准确、易懂。\n\n"
        "文字：\n{document}\n\n"
        "只回答分数：0 到 5 之间的一个数字。"
    ),
}
#: The start of the answer, prefilled in the assistant turn (the model writes the number).
LEADS = {"en": "Educational score:", "zh": "教育价值得分："}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
# a labelled score first ("score: 4", "得分：4", "score is 80"), then "4/5" / "4 分", then the first lone digit 0-5
_LABELLED = re.compile(r"(?:score|rating|得分|评分|分数)\s*(?:is|为|是)?\s*[:：=]?\s*\**\s*(\d{1,3}(?:\.\d+)?)", re.IGNORECASE)
_OUT_OF = re.compile(r"(?<![0-9.])([0-5])\s*(?:/\s*5|out of 5|分)")
_LONE = re.compile(r"(?<![0-9.])([0-5])(?![0-9.])")


def _scaled(value: float) -> int | None:
    """A labelled value on the 0–5 scale; small models sometimes answer out of 10 or 100, which is scaled."""
    if value <= 5:
        return int(value + 0.5)
    if value <= 10:
        return int(value / 2 + 0.5)
    if value <= 100:
        return int(value / 20 + 0.5)
    return None


def parse_score(text: str | None) -> int | None:
    """The 0–5 score in an answer: a labelled score (one out of 10 or 100 is scaled to 0–5), else ``N/5`` or
    ``N 分``, else the first lone digit 0–5; None when there is none."""
    if not text:
        return None
    t = text.translate(_FULLWIDTH)
    m = _LABELLED.search(t)
    if m:
        return _scaled(float(m.group(1)))
    for pattern in (_OUT_OF, _LONE):
        m = pattern.search(t)
        if m:
            return int(m.group(1))
    return None


def prompt_lang(lang: str | None, text: str) -> str:
    """``zh`` for Chinese documents (by ``lang``, or by a share of CJK characters when it is absent), else ``en``."""
    if lang:
        return "zh" if lang.split("_")[0].lower() in ("zh", "cmn") else "en"
    sample = text[:2000]
    return "zh" if sample and len(_CJK.findall(sample)) > 0.2 * len(sample) else "en"


def picked(seed: int, ids: list[str], fraction: float) -> list[bool]:
    """A stable sample: a document is picked when the hash of seed and id is below ``fraction``."""
    cut = int(fraction * 2**64)
    return [xxhash.xxh64_intdigest(f"{seed}\x00{i}".encode()) < cut for i in ids]


@dataclass(frozen=True)
class AnnotateConfig:
    """What to rate and how; the CLI fills it from its options."""

    engine: EngineSpec
    sampling: SamplingSpec = field(default_factory=lambda: SamplingSpec(temperature=0.0, max_tokens=8))
    chat_template: bool = True  # instruct models: prompt as a user turn, the lead prefilled
    fraction: float = 1.0  # share of documents rated (stable hash of seed and id)
    limit: int | None = None  # most documents rated, in input order after sampling
    max_chars: int = 2000  # each document is cut to this many characters in the prompt
    threshold: float = 3  # score >= threshold -> label hq, else lq
    seed: int = 0
    score_from: str = "text"  # text: parse a generated answer; logprobs: expected digit from next-token probabilities
    max_doc_tokens: int = 384  # logprobs: each document is cut to this many tokens of the model's tokenizer
    batch_size: int = 8  # logprobs with the hf engine: prompts per forward pass


def annotate(table: pa.Table, config: AnnotateConfig) -> pa.Table:
    """Rate the sampled documents of ``table`` (columns ``id``, ``text``, optional ``lang``); one row each."""
    from curate.synth.chat import ChatFormat
    from curate.synth.engines import make_engine
    from curate.synth.requests import request_seed

    ids = [str(i) for i in table.column("id").to_pylist()]
    keep = picked(config.seed, ids, config.fraction)
    rows = [i for i, k in enumerate(keep) if k][: config.limit]
    texts = [table.column("text")[i].as_py() or "" for i in rows]
    langs_in = table.column("lang").to_pylist() if "lang" in table.column_names else [None] * table.num_rows
    langs = [prompt_lang(langs_in[i], t) for i, t in zip(rows, texts)]
    chat = ChatFormat(config.engine.tokenizer or config.engine.model) if config.chat_template else None
    if config.score_from == "logprobs":
        return _annotate_logprobs([ids[i] for i in rows], texts, langs, chat, config)
    if config.score_from != "text":
        raise ValueError(f"score_from must be text or logprobs, not {config.score_from!r}")
    prompts = [_prompt(text[: config.max_chars], lang, chat) for text, lang in zip(texts, langs)]
    seeds = [request_seed(config.seed, ids[i], "annotate", 0) for i in rows]
    engine = make_engine(config.engine, config.seed)
    try:
        answers = engine.generate(prompts, seeds, config.sampling)
    finally:
        engine.close()
    raw = [LEADS[lang] + a.text for lang, a in zip(langs, answers)]
    scores = [parse_score(r) for r in raw]
    return _table([ids[i] for i in rows], texts, langs, pa.array(scores, pa.int8()), raw, config)


def _prompt(text: str, lang: str, chat, lead_suffix: str = "") -> str:
    return "".join(_prompt_parts(text, lang, chat, lead_suffix))


def _prompt_parts(text: str, lang: str, chat, lead_suffix: str = "") -> tuple[str, str]:
    """The prompt as (the part before the document, shared by every prompt of a language; the rest)."""
    lead = LEADS[lang] + lead_suffix
    whole = chat.render(PROMPTS[lang], lead) if chat else PROMPTS[lang] + "\n" + lead
    head, tail = whole.split("{document}")
    return head, text.strip() + tail


def _table(ids: list[str], texts: list[str], langs: list[str], scores: pa.Array, raw: list[str], config: AnnotateConfig,
           extra: dict | None = None) -> pa.Table:
    import pyarrow.compute as pc

    hq = pc.greater_equal(scores, pa.scalar(config.threshold, pa.float64()))
    labels = pc.if_else(hq, "hq", "lq")  # null where the score is null
    version = "v1" if config.score_from == "text" else "v1.logprobs"
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "text": pa.array(texts, pa.string()),
            "lang": pa.array(langs, pa.string()),
            "prompt": pa.array([f"edu_{lang}.{version}" for lang in langs], pa.string()),
            "score": scores,
            "label": labels,
            "raw": pa.array(raw, pa.string()),
            "model": pa.array([config.engine.model] * len(ids), pa.string()),
            **(extra or {}),
        }
    )


def _annotate_logprobs(ids: list[str], texts: list[str], langs: list[str], chat, config: AnnotateConfig) -> pa.Table:
    """Scores from the digits' next-token probabilities; ``text`` keeps the whole (char-cut) document."""
    import numpy as np

    from curate.scorers.edu_logprobs import expected_scores, make_scorer, probs_json, truncate_tokens

    scorer = make_scorer(config.engine, config.batch_size, config.seed)
    try:
        cut = truncate_tokens(scorer.tok, [t[: config.max_chars] for t in texts], config.max_doc_tokens)
        suffix = " " if scorer.space else ""
        logprobs = scorer.logprobs([_prompt_parts(t, lang, chat, suffix if lang == "en" else "") for t, lang in zip(cut, langs)])
    finally:
        scorer.close()
    score, mass = expected_scores(logprobs)
    scores = pa.array(np.round(score, 4), pa.float32(), mask=np.isnan(score))
    return _table(ids, texts, langs, scores, probs_json(logprobs), config, {"mass": pa.array(np.round(mass, 4), pa.float32())})


def write(table: pa.Table, path: str | Path) -> Path:
    """Write annotations as one zstd Parquet file, atomically."""
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.rename(path)
    return path
