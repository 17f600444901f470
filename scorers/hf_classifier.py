"""Hugging Face sequence classifiers as document scorers (RoBERTa quality classifiers, FineWeb-Edu).

Any local ``AutoModelForSequenceClassification`` checkpoint works. A model with one output (a regression
head, as FineWeb-Edu's educational scorer) scores with its raw output; a model with several labels scores
with the softmax probability of a chosen label. Texts are truncated to ``max_length`` tokens, sorted by
length and batched so padding stays small; scores come back in input order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.scorers._torch import (
    check_device,
    length_batches,
    require_transformers,
    set_threads,
    torch_dtype,
)


class HFClassifier:
    """A loaded sequence classifier; :meth:`score` turns texts into one float per text."""

    def __init__(
        self,
        path: str | Path,
        device: str = "cpu",
        max_length: int = 512,
        batch_size: int = 32,
        dtype: str = "float32",
        label: str | int | None = None,
        threads: int | None = None,
    ) -> None:
        transformers = require_transformers()
        import torch

        if not Path(path).is_dir():
            raise FileNotFoundError(
                f"classifier {str(path)!r} is not a local model directory; download it first "
                "(e.g. `hf download HuggingFaceFW/fineweb-edu-classifier --local-dir models/edu`) and point `model` at it"
            )
        self.device = check_device(device)
        set_threads(threads)
        self.max_length = max_length
        self.batch_size = batch_size
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        self.model = transformers.AutoModelForSequenceClassification.from_pretrained(str(path), dtype=torch_dtype(dtype))
        self.model.to(self.device).eval()
        self.label_index = self._label_index(label)
        self._torch = torch

    def _label_index(self, label: str | int | None) -> int | None:
        num = self.model.config.num_labels
        if num == 1:
            return None  # regression head: the output is the score
        if label is None:
            if num == 2:
                return 1  # binary classifiers: the positive class
            raise ValueError(f"the model has {num} labels {self.model.config.id2label}; set `label` to one of them")
        if isinstance(label, int) or str(label).isdigit():
            index = int(label)
        else:
            names = {str(v): int(k) for k, v in self.model.config.id2label.items()}
            if label not in names:
                raise ValueError(f"no label {label!r}; the model's labels are {sorted(names)}")
            index = names[label]
        if not 0 <= index < num:
            raise ValueError(f"label index {index} is out of range for a model with {num} labels")
        return index

    def score(self, texts: list[str]) -> np.ndarray:
        """One float32 score per text, in input order."""
        torch = self._torch
        out = np.zeros(len(texts), dtype=np.float32)
        if not texts:
            return out
        enc = self.tokenizer(texts, truncation=True, max_length=self.max_length)
        ids = enc["input_ids"]
        lengths = [len(x) for x in ids]
        for rows in length_batches(lengths, self.batch_size, self.batch_size * self.max_length):
            batch = self.tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt")
            with torch.inference_mode():
                logits = self.model(
                    input_ids=batch["input_ids"].to(self.device), attention_mask=batch["attention_mask"].to(self.device)
                ).logits.float()
            if self.label_index is None:
                values = logits[:, 0]
            else:
                values = torch.softmax(logits, dim=-1)[:, self.label_index]
            out[rows] = values.cpu().numpy()
        return out
