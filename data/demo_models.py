"""Tiny transformers models built from scratch: for the sample pipeline, tests and benchmarks.

Nothing is downloaded: the tokenizer is a byte-level BPE trained here with ``tokenizers`` on the texts
given, and the models are small Llama / RoBERTa configurations (a few hundred thousand parameters) that
load with the ``Auto*`` classes like any real checkpoint. Real runs point the stages at real models
instead (see docs/scorers.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from curate.scorers._torch import require_transformers

SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]


def build_tokenizer(texts: Iterable[str], vocab_size: int = 2048, bos: bool = True):
    """A byte-level BPE fast tokenizer trained on ``texts`` (any language); adds ``<s>`` first when ``bos``."""
    transformers = require_transformers()
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )


def tiny_llama(tokenizer, hidden: int = 64, layers: int = 2, heads: int = 4, context: int = 512, seed: int = 0):
    """A randomly initialised LlamaForCausalLM sized for the tokenizer (tied embeddings)."""
    transformers = require_transformers()
    import torch

    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=context,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return transformers.LlamaForCausalLM(config).eval()


def tiny_roberta_classifier(tokenizer, num_labels: int = 2, hidden: int = 64, layers: int = 2, seed: int = 0):
    """A randomly initialised RobertaForSequenceClassification (``num_labels=1``: a regression head)."""
    transformers = require_transformers()
    import torch

    torch.manual_seed(seed)
    config = transformers.RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        max_position_embeddings=520,
        num_labels=num_labels,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        problem_type="regression" if num_labels == 1 else "single_label_classification",
    )
    return transformers.RobertaForSequenceClassification(config).eval()


def train_lm(model, tokenizer, texts: list[str], steps: int = 300, seq: int = 128, batch: int = 16, lr: float = 3e-3, seed: int = 0):
    """A few hundred AdamW steps of next-token training on ``texts``, so losses mean something; deterministic.

    The proxy trainer's parts do the work (its AdamW groups, warmup-stable-decay schedule and seeded
    batch sampler), so there is one way to train a small LM in this repository.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    from curate.proxy.data import batch_at
    from curate.proxy.train import TrainConfig, make_optimizer, wsd_lr

    stream = np.concatenate([np.asarray(x + [tokenizer.eos_token_id], dtype=np.int32) for x in tokenizer(texts)["input_ids"]])
    cfg = TrainConfig(tokens=steps * batch * seq, batch_size=batch, lr=lr, weight_decay=0.01, seed=seed)
    torch.manual_seed(seed)
    model.train()
    opt = make_optimizer(model, cfg)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = wsd_lr(step, steps, cfg)
        x, y = batch_at(stream, step, 0, batch, seq, seed)
        logits = model(input_ids=x).logits  # (B, T, vocab)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
    model.eval()
    return float(loss.detach())


def save(model, tokenizer, out: str | Path) -> Path:
    """Save model (safetensors) and tokenizer in one directory, loadable with ``from_pretrained``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
