import pyarrow as pa
import pytest

from curate.core.errors import RecipeError
from curate.core.tokenizer import encode, encode_batches, read_tokenizer, token_id, train_bpe

TEXTS = ["the cat sat on the mat", "数据质量很重要", "Der Hund läuft schnell"] * 20


def test_special_tokens_take_the_first_ids_and_every_language_encodes() -> None:
    tok = train_bpe(TEXTS, 300, ["<|endoftext|>", "<|pad|>"])
    assert tok.token_to_id("<|endoftext|>") == 0 and tok.token_to_id("<|pad|>") == 1
    for text, ids in zip(TEXTS[:3], encode(tok, TEXTS[:3])):
        assert tok.decode(ids.tolist()) == text


def test_arrow_and_list_inputs_encode_alike_in_batches() -> None:
    tok = train_bpe(TEXTS, 300, ["<|endoftext|>"])
    texts = TEXTS[:7] + [None]
    from_list = [ids for batch in encode_batches(tok, texts, batch=3) for ids in batch]
    from_arrow = [ids for batch in encode_batches(tok, pa.chunked_array([texts[:4], texts[4:]]), batch=3) for ids in batch]
    assert from_list == from_arrow and from_list[-1] == []
    assert [len(b) for b in encode_batches(tok, texts, batch=3)] == [3, 3, 2]


def test_missing_or_broken_files_and_missing_tokens_are_named(tmp_path) -> None:
    with pytest.raises(RecipeError, match="nope.json' does not exist; train one"):
        read_tokenizer(tmp_path / "nope.json", "train one")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RecipeError, match="bad.json' is not a Hugging Face tokenizer.json"):
        read_tokenizer(bad)
    good = tmp_path / "tok.json"
    train_bpe(TEXTS, 300, ["<s>"]).save(str(good))
    tok, data = read_tokenizer(good)
    assert data == good.read_bytes()
    with pytest.raises(RecipeError, match="has no '<eod>' token; it ends documents"):
        token_id(tok, "<eod>", good, "it ends documents")
