"""Educational value from the next-token probabilities of the digits 0–5 (G-Eval style), not generated text.

Why: generating a rating costs a decode loop per document and gives one integer, which a small model
mostly answers with the same digit (nearly one-class labels). Here the assistant turn is prefilled up to
``Educational score:`` and one forward pass over the prompt gives the probability of each digit 0–5 as
the next token; the score is the expected value ``sum(d * p(d)) / sum(p(d))``, a continuous 0–5 number
that ranks documents even when the arg-max digit is the same for most of them. ``mass`` (the total
probability of the six digits) says whether the model was answering the question at all.

Two backends do the same maths: ``hf`` (transformers: the last position's log-softmax over the whole
vocabulary, batched with left padding) and ``vllm`` (offline ``generate`` with ``max_tokens=1`` and the
top-20 ``logprobs``: a digit outside the top 20 counts as probability 0). Documents are cut to
``max_doc_tokens`` tokens of the model's tokenizer before the prompt is built, which bounds the cost of
one document and the memory of a batch (``batch_size`` prompts of at most ``max_doc_tokens`` + the
prompt's own ~150 tokens).
"""

from __future__ import annotations

import json

import numpy as np

DIGITS = "012345"


def digit_token_ids(tokenizer) -> tuple[list[list[int]], bool]:
    """Token ids that spell each digit 0–5 alone (``"3"`` and, where one token, ``" 3"``), and whether the
    prompt should end in a space (when the tokenizer has no single ``" 3"`` token, the space is its own token
    and belongs to the prompt so that the next token is the bare digit)."""
    ids: list[list[int]] = []
    spaced = True
    for d in DIGITS:
        bare = tokenizer.encode(d, add_special_tokens=False)
        if len(bare) != 1:
            raise ValueError(f"the tokenizer spells the digit {d!r} with {len(bare)} tokens; digit scoring needs one")
        with_space = tokenizer.encode(" " + d, add_special_tokens=False)
        ids.append(bare + (with_space if len(with_space) == 1 else []))
        spaced = spaced and len(with_space) == 1
    return ids, not spaced


def expected_scores(logprobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score, mass) per row of ``logprobs`` [n, 6] (log p of each digit; -inf when unknown): the expected
    digit under the probabilities renormalised over 0–5, and their total probability. A row with no digit
    probability at all gets NaN."""
    p = np.exp(np.asarray(logprobs, dtype=np.float64))  # [n, 6]
    mass = p.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (p * np.arange(6)).sum(axis=1) / mass
    return score, mass


def probs_json(logprobs: np.ndarray) -> list[str]:
    """Each row's digit probabilities as a small JSON object, kept in the annotation's ``raw`` column."""
    return [json.dumps({d: round(float(np.exp(v)), 4) for d, v in zip(DIGITS, row)}, sort_keys=True) for row in logprobs]


class HFDigitScorer:
    """transformers: log p of each digit at the end of each prompt, batched.

    Every prompt is ``prefix + rest`` where the prefix (system turn and the instruction before the document)
    is shared by all prompts of a language: its keys and values are computed once and reused, so a batch
    runs only the documents and what follows them (about a third less work for 256-token documents). The
    rests are right-padded (a causal model's real tokens never see the pads after them) and the vocabulary
    projection runs on each row's last real position only.
    """

    def __init__(self, model: str, tokenizer: str | None = None, device: str = "cpu", dtype: str = "float32", batch_size: int = 8) -> None:
        from curate.scorers._torch import check_device, require_transformers, torch_dtype

        transformers = require_transformers()
        self.device = check_device(device)
        self.batch_size = batch_size
        self.tok = transformers.AutoTokenizer.from_pretrained(tokenizer or model)
        self.model = transformers.AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype("float32" if dtype == "auto" else dtype))
        self.model = self.model.to(self.device).eval()
        self.digits, self.space = digit_token_ids(self.tok)
        self._prefixes: dict[str, object] = {}

    def _prefix_cache(self, prefix: str):
        """The key/value cache of a prefix (batch 1), computed once per distinct prefix."""
        import torch

        if prefix not in self._prefixes:
            ids = torch.tensor([self.tok.encode(prefix, add_special_tokens=False)], device=self.device)
            with torch.inference_mode():
                self._prefixes[prefix] = self.model(input_ids=ids, use_cache=True).past_key_values
        return self._prefixes[prefix]

    def logprobs(self, prompts: list[tuple[str, str]]) -> np.ndarray:
        """[len(prompts), 6] log p of each digit as the token after ``prefix + rest`` (summed over spellings)."""
        import copy

        import torch

        out = np.full((len(prompts), 6), -np.inf)
        rests = [self.tok.encode(rest, add_special_tokens=False) for _, rest in prompts]
        # per-row Python: group by prefix, then batches of similar length (little padding)
        order = sorted(range(len(prompts)), key=lambda i: (prompts[i][0], -len(rests[i])))
        groups = [[i for i in order if prompts[i][0] == p] for p in dict.fromkeys(prompts[i][0] for i in order)]
        for group in groups:
            cache = self._prefix_cache(prompts[group[0]][0])
            for start in range(0, len(group), self.batch_size):
                rows = group[start : start + self.batch_size]
                width = max(len(rests[i]) for i in rows)
                ids = torch.full((len(rows), width), self.tok.pad_token_id or 0, dtype=torch.long)
                for r, i in enumerate(rows):
                    ids[r, : len(rests[i])] = torch.tensor(rests[i])
                past = copy.deepcopy(cache)
                past.batch_repeat_interleave(len(rows))
                last = torch.tensor([len(rests[i]) - 1 for i in rows])
                with torch.inference_mode():
                    hidden = self.model.model(input_ids=ids.to(self.device), past_key_values=past, use_cache=True).last_hidden_state
                    logits = self.model.lm_head(hidden[torch.arange(len(rows)), last.to(self.device)]).float()  # [b, vocab]
                lp = torch.log_softmax(logits, dim=-1)
                for d, tokens in enumerate(self.digits):
                    out[rows, d] = torch.logsumexp(lp[:, tokens], dim=-1).cpu().numpy()
        return out

    def close(self) -> None:
        self.model = None
        self._prefixes.clear()


class VLLMDigitScorer:
    """vLLM offline: ``max_tokens=1`` with the top-20 logprobs of the next token; digits read by their text."""

    TOP = 20

    def __init__(self, spec, seed: int = 0) -> None:
        from curate.synth.vllm_engine import VLLMEngine

        self.engine = VLLMEngine(spec, seed)
        self.tok = self.engine.llm.get_tokenizer()
        self.digits, self.space = digit_token_ids(self.tok)

    def logprobs(self, prompts: list[tuple[str, str]]) -> np.ndarray:
        """As :meth:`HFDigitScorer.logprobs`; vLLM's prefix cache reuses the shared prefixes by itself."""
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        params = SamplingParams(max_tokens=1, temperature=0.0, logprobs=self.TOP)
        inputs = [TokensPrompt(prompt_token_ids=self.tok.encode(p + r, add_special_tokens=False)) for p, r in prompts]
        outputs = self.engine.llm.generate(inputs, params, use_tqdm=False)
        out = np.full((len(prompts), 6), -np.inf)
        for i, o in enumerate(outputs):  # per-row Python: vLLM returns one dict of top tokens per request
            top = o.outputs[0].logprobs[0]  # token id -> Logprob
            for d, ids in enumerate(self.digits):
                found = [top[t].logprob for t in ids if t in top]
                if found:
                    out[i, d] = np.logaddexp.reduce(found)
        return out

    def close(self) -> None:
        self.engine.close()


def make_scorer(spec, batch_size: int = 8, seed: int = 0):
    """The digit scorer for an :class:`~curate.synth.engines.EngineSpec` (kind ``hf`` or ``vllm``)."""
    if spec.kind == "hf":
        return HFDigitScorer(spec.model, spec.tokenizer, spec.device, spec.dtype, batch_size)
    if spec.kind == "vllm":
        return VLLMDigitScorer(spec, seed)
    raise ValueError(f"--score-from logprobs needs engine hf or vllm, not {spec.kind!r} (an http server's top logprobs are not read yet)")


def truncate_tokens(tokenizer, texts: list[str], max_tokens: int) -> list[str]:
    """Each text cut to its first ``max_tokens`` tokens (decoded back to text); shorter texts unchanged."""
    enc = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [t if len(ids) <= max_tokens else tokenizer.decode(ids[:max_tokens]) for t, ids in zip(texts, enc)]
