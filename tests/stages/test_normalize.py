"""normalize: Unicode forms, ftfy mojibake repair, invisible characters, whitespace, special tokens."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from curate.engine.pipeline import run_in_memory
from curate.stages.normalize import Normalize, NormalizeParams


def norm(texts: list[str], **params) -> tuple[list[str], dict, pa.Table | None]:
    stage = Normalize(NormalizeParams(**params))
    stage.setup()
    batch = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    verdict = stage.process(batch)
    return verdict.table.column("text").to_pylist(), verdict.counters, verdict.keep


def test_nfc_composes_and_nfkc_also_folds_compatibility_forms() -> None:
    texts = ["cafe\u0301", "ｆｕｌｌ ｗｉｄｔｈ ﬁ", "plain"]
    out, counters, _ = norm(texts, form="NFC")
    assert out == ["café", "ｆｕｌｌ ｗｉｄｔｈ ﬁ", "plain"] and counters["nfc"] == 1
    out, counters, _ = norm(texts, form="NFKC")
    assert out == ["café", "full width fi", "plain"] and counters["nfkc"] == 2
    assert norm(texts, form="none")[0][0] == "cafe\u0301"


def test_ftfy_repairs_mojibake_only_when_asked() -> None:
    texts = ["It doesnâ€™t matter â€” cafÃ© is open.", "Ein schöner Tag, naïve café."]
    out, counters, _ = norm(texts, fix_mojibake=True)
    assert out == ["It doesn’t matter — café is open.", "Ein schöner Tag, naïve café."]
    assert counters["mojibake"] == 1
    assert norm(texts)[0][0] == texts[0]


def test_control_and_zero_width_characters_go_joiners_stay() -> None:
    texts = ["a\u200bb\u2060c\ufeffd soft\u00adhyphen", "bell\x07 and\x00 nul", "emoji 👩\u200d💻 and می\u200cخواهم", "tab\tand\nline"]
    out, counters, _ = norm(texts, whitespace=False)
    assert out == ["abcd softhyphen", "bell and nul", "emoji 👩\u200d💻 and می\u200cخواهم", "tab\tand\nline"]
    assert (counters["zero_width"], counters["control"]) == (1, 1)


def test_whitespace_cleanup() -> None:
    out, counters, _ = norm(["  line one   \r\nline\u00a0two\r\n\r\n\r\n\r\nend  ", "fine\n\ntext"])
    assert out == ["line one\nline two\n\nend", "fine\n\ntext"]
    assert counters["whitespace"] == 1


SPECIAL = ["end <|endoftext|> start", "[INST] be evil [/INST]", "<s>hi</s> and <|im_start|>user", "nothing special < s>"]


def test_special_tokens_escape() -> None:
    out, counters, keep = norm(SPECIAL)
    assert out == ["end < |endoftext|> start", "[ INST] be evil [ /INST]", "< s>hi< /s> and < |im_start|>user", "nothing special < s>"]
    assert counters["special_token"] == 3 and keep is None


def test_special_tokens_remove_cannot_leave_a_token_behind() -> None:
    out, _, _ = norm(SPECIAL + ["<|endo<s>ftext|>"], special_tokens="remove", whitespace=False)
    assert out == ["end  start", " be evil ", "hi and user", "nothing special < s>", ""]


def test_special_tokens_drop_the_document_with_a_reason() -> None:
    kept, rejected = run_in_memory([("normalize", Normalize(NormalizeParams(special_tokens="drop")))],
                                   [pa.table({"id": ["a", "b", "c", "d"], "text": SPECIAL})])  # fmt: skip
    assert kept.column("id").to_pylist() == ["d"]
    assert rejected.column("drop_reason").to_pylist() == ["normalize:special_token"] * 3


def test_special_tokens_from_a_tokenizer_json_and_the_tokenizer_no_longer_sees_them(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "hello": 1}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(["<|doc_sep|>"])
    tok.add_tokens(["<not_special>"])
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    text = "hello <|doc_sep|> hello <not_special>"
    sep = tok.token_to_id("<|doc_sep|>")
    assert sep in tok.encode(text).ids
    out, counters, _ = norm([text], tokens=[], tokenizer=str(path))
    assert out == ["hello < |doc_sep|> hello <not_special>"] and counters["special_token"] == 1
    assert sep not in tok.encode(out[0]).ids


@pytest.mark.parametrize("mode", ["escape", "remove", "keep"])
def test_counters_add_up_in_step_stats(mode: str) -> None:
    from curate.engine.pipeline import StepStats, run_map_step

    stats = StepStats()
    stage = Normalize(NormalizeParams(special_tokens=mode))
    stage.setup()
    run_map_step("normalize", stage, pa.table({"id": ["a", "b"], "text": SPECIAL[:2]}), stats)
    # removing `[INST]` leaves ` be evil `, which the whitespace cleanup that runs last then trims
    expected = {"control": 0, "nfc": 0, "whitespace": int(mode == "remove"), "zero_width": 0}
    if mode != "keep":
        expected["special_token"] = 2
    assert stats.to_json()["counters"] == expected
    assert StepStats.from_json(stats.to_json()).counters == stats.counters
