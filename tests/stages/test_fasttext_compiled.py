"""The compiled fastText predictor against the fastText library: the same label and probability, bit for bit."""

import struct
from pathlib import Path

import fasttext
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit
from curate.stages.lang_id import LangId, bundled_model
from curate.stages.lib.fasttext_compiled import CompiledFastText, Unsupported
from tests.stages.conftest import PROSE

ROOT = Path(__file__).resolve().parents[2]
#: what tokenization, the end-of-line token and labels make of odd input
EDGE_CASES = [
    "", " ", "  \n\n ", "hello world", "a </s> b c", "</s>", "__label__en bonjour", "__label__", "\x00x\ty",
    "tab\tsep\x0bvt\x0cff\rcr", "日本語のテキスト", "Ünïcödé wörds ça", "é" * 3000, "x" * 5000, "😀 emoji 🎉🎉",
]


def library_top(model_path: Path, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """fastText's own top-1 prediction, one line per text as lang_id feeds it."""
    model = fasttext.load_model(str(model_path))
    lines = [t.replace("\n", " ") + "\n" for t in texts]
    labels, probs = model.f.multilinePredict(lines, 1, 0.0, "replace")
    return [x[0] if x else "" for x in labels], np.array([p[0] if len(p) else 0.0 for p in probs], dtype=np.float32)


def compiled_top(model_path: Path, texts: pa.Array) -> tuple[list[str], np.ndarray]:
    model = CompiledFastText(model_path)
    index, prob = model.predict(texts)
    return [model.labels[i] if i >= 0 else "" for i in index], prob


def sample_texts() -> list[str]:
    units = plan_units(find_inputs([str(ROOT / "data" / "sample")]), ColumnMap())
    texts = pa.concat_arrays([pc.fill_null(read_unit(u, ColumnMap())[0].column("text").combine_chunks(), "") for u in units])
    return texts.to_pylist()


def test_lid176_matches_the_library_bit_for_bit_on_the_sample_and_edge_cases():
    texts = sample_texts() + EDGE_CASES
    want_labels, want_probs = library_top(bundled_model(), texts)
    got_labels, got_probs = compiled_top(bundled_model(), pa.array(texts))
    assert got_labels == want_labels
    assert got_probs.tobytes() == want_probs.tobytes()
    assert len(set(want_labels)) > 10  # the sample holds many languages: the tree is walked to many leaves


def test_sliced_chunked_and_null_input():
    texts = pa.chunked_array([pa.array(["Der Hund schläft im Garten.", None, "Le chat dort sur le canapé depuis ce matin."]), pa.array(["犬が寝ている。"])])
    model = CompiledFastText(bundled_model())
    whole_index, whole_prob = model.predict(texts)
    part_index, part_prob = model.predict(texts.combine_chunks().slice(2, 2))
    assert [model.labels[i] for i in whole_index] == ["__label__de", "__label__en", "__label__fr", "__label__ja"]
    assert (part_index == whole_index[2:]).all() and part_prob.tobytes() == whole_prob[2:].tobytes()


def write_model(path: Path, word_ngrams: int = 1, seed: int = 0) -> Path:
    """A dense hierarchical-softmax model in fastText's file format, with random rows: 200 words of the
    prose, 40 labels, 2,000 n-gram buckets, nothing pruned. (Training one here is not an option: fastText's
    training on data this small now and then stops with "Encountered NaN".)"""
    rng = np.random.default_rng(seed)
    words = ["</s>"] + sorted({w for ps in PROSE.values() for p in ps for w in p.split()})[:199]
    labels = [f"__label__l{i}" for i in range(40)]
    dim, bucket = 16, 2_000
    out = bytearray(struct.pack("<2i", 793712314, 12))
    # dim ws epoch minCount neg wordNgrams loss(hs) model(sup) bucket minn maxn lrUpdateRate t
    out += struct.pack("<12id", dim, 5, 5, 1, 5, word_ngrams, 1, 3, bucket, 2, 4, 100, 1e-4)
    out += struct.pack("<3i2q", len(words) + len(labels), len(words), len(labels), 10_000, -1)
    counts = sorted(rng.integers(1, 1_000, len(labels)).tolist(), reverse=True)
    for entry, count, kind in [(w, 5, 0) for w in words] + [(x, c, 1) for x, c in zip(labels, counts)]:
        out += entry.encode() + b"\0" + struct.pack("<qb", count, kind)
    out += struct.pack("<?2q", False, len(words) + bucket, dim)
    out += rng.normal(0, 0.5, (len(words) + bucket, dim)).astype("<f4").tobytes()
    out += struct.pack("<?2q", False, len(labels), dim)
    out += rng.normal(0, 0.5, (len(labels), dim)).astype("<f4").tobytes()
    path.write_bytes(bytes(out))
    return path


def test_a_dense_unpruned_model_matches_the_library(tmp_path, prose):
    path = write_model(tmp_path / "dense.bin")
    texts = [p for ps in prose.values() for p in ps] + EDGE_CASES + ["mots inconnus zzqx", "ein völlig neues Wort"]
    want_labels, want_probs = library_top(path, texts)
    got_labels, got_probs = compiled_top(path, pa.array(texts))
    assert got_labels == want_labels and len(set(want_labels)) > 3
    assert got_probs.tobytes() == want_probs.tobytes()


def test_word_ngram_models_are_left_to_the_library(tmp_path, table, prose):
    path = write_model(tmp_path / "bigrams.bin", word_ngrams=2)
    with pytest.raises(Unsupported, match="word n-grams 2"):
        CompiledFastText(path)
    stage = LangId(LangId.Params(model=str(path)))
    stage.setup()
    texts = [p for ps in prose.values() for p in ps]
    want, _ = library_top(path, texts)
    assert stage.process(table(texts)).table.column("lang").to_pylist() == [x.removeprefix("__label__") for x in want]


def test_a_file_that_is_not_a_model_gets_a_clear_error(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"not a model at all")
    with pytest.raises(Unsupported, match="not a fastText model"):
        CompiledFastText(bad)
    stage = LangId(LangId.Params(model=str(bad)))
    with pytest.raises(ValueError, match="lang_id: cannot load fastText model"):
        stage.setup()
    stage = LangId(LangId.Params(model=str(tmp_path / "missing.ftz")))
    with pytest.raises(ValueError, match="missing.ftz"):
        stage.setup()
