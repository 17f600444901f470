"""Vectorised text statistics for the heuristic filters: words, lines, paragraphs, n-grams over a batch.

Word splitting is our own regex tokenizer, run by polars over the whole batch at once. It reproduces
what the Gopher / C4 / FineWeb filters in datatrove get from spaCy's English tokenizer closely enough
for their thresholds (see docs/filters.md for where it differs): punctuation at the edges of a
whitespace-separated chunk is one token per character, hyphens and dashes split words, ``n't`` and
``'s``-style endings are their own tokens, abbreviations such as ``U.S.`` and URLs stay whole, and
characters of scripts written without spaces (Han, kana, Hangul) are one word each.

Everything here returns flat arrays plus the document index of each element, so per-document
statistics are ``np.bincount`` / ``reduceat`` over the batch rather than a Python loop per document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
_OPT = "\ue000"  # stands in for the dashes of a command-line option (-l, --help), kept inside the word
_JOIN = "\ue001"  # stands in for a hyphen or slash that does not split (GPL-2, x-1, and/or)
_EDGE = rf"[^\s\p{{P}}\p{{S}}{CJK}]|[/~@{_OPT}]"  # a character a word may start or end with
_URL = r"(?:https?|ftp)://[^\s]*[\w/]"
#: Rewrites before matching, each (pattern, replacement): split contractions (do n't, it 's, can not);
#: outside URLs, split a:b a/b a=b between letters and lower.Upper; keep letter-digit hyphens and the
#: dashes of an option inside their word. Placeholders keep every length unchanged.
_REWRITES = (
    (r"(?i)(\w)(n['’]t|['’](?:s|re|ve|ll|d|m))\b", "${1} ${2}"),
    (r"(?i)\b(can)(not)\b", "${1} ${2}"),
    (r"\band/or\b", "and" + _JOIN + "or"),
    (r"(\p{L})-(\d)", "${1}" + _JOIN + "${2}"),
    (r"(^|\s)--(\w)", "${1}" + _OPT * 2 + "${2}"),
    (r"(^|\s)-(\w)", "${1}" + _OPT + "${2}"),
    (r"(\d)(km|kg|mg|mb|MB|kb|KB|gb|GB|tb|TB|[KMGTgm])\b", "${1} ${2}"),
)
#: Inside a word (never a URL), these split: a:b a/b a=b a<b between letters, and lower.Upper.
_INFIX = (r"([\p{L}\d])([:<>=/])(\p{L})", r"(\p{Ll})(\.)(\p{Lu})")
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
#: Abbreviations that keep their period (spaCy's English exceptions): titles, months, company forms, letters.
_ABBREV = (
    r"\b(?:Adm|Apr|Aug|Bros|Calif|Co|Corp|Dec|Dr|Feb|Gen|Gov|Inc|Jan|Jr|Jul|Jun|Ltd|Mar|Mr|Mrs|Ms|Mt|Nov|Oct"
    r"|Prof|Rep|Rev|Sen|Sep|Sept|St|co|vs|[a-zäöü])\."
)
WORD_PATTERN = (
    _URL + "|" + _EMAIL  # URLs stay whole (trailing punctuation split off)
    + r"|(?:\p{L}\.){2,}|\p{Lu}\.|" + _ABBREV  # abbreviations and initials: U.S. e.g. J. Inc.
    + rf"|[{CJK}]"  # one word per CJK character
    r"|(?i:n['’]t|['’](?:s|re|ve|ll|d|m)\b)"  # contraction endings
    r"|\.{2,}|--+|''|\):|8\)|C\+\+"  # ellipsis, double dash, double quote, "):", "8)" and C++ stay one token
    r"|\.[\w/]+(?:[^\s\p{Pd}]*\w)?"  # a word may start with a period: .pyc ./configure
    rf"|(?:{_EDGE})(?:[^\s\p{{Pd}}{CJK}]*(?:{_EDGE}))?"  # a word: inner punctuation kept (os.path, 3.5, x=1)
    r"|\S"  # any other character: a token on its own
)
#: WORD_PATTERN for text without "@" or "://", where its URL and e-mail alternatives cannot match: the same
#: words, a third faster (from every letter, the e-mail alternative scans to the end of its run of letters).
_PLAIN_WORD_PATTERN = WORD_PATTERN.removeprefix(_URL + "|" + _EMAIL + "|")
#: Characters that end a sentence (Unicode Sentence_Terminal: . ! ? 。 ！ ？ । ...), plus three Khmer signs
#: datatrove's TERMINAL_PUNCTUATION also lists.
TERMINAL = r"[\p{Sentence_Terminal}\x{17D6}\x{17D9}\x{17DA}]"
#: Mixes a document number into a 64-bit key (odd, from splitmix64).
DOC_MIX = np.uint64(0xD6E8FEB86659FD93)
_LINE_BREAK = r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\x{2028}\x{2029}]"


def as_array(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The text column as one contiguous string array (nulls read as empty text)."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
    if pa.types.is_large_string(text.type):
        text = text.cast(pa.string())
    return pc.fill_null(text, "")


@dataclass
class Pieces:
    """Flat pieces (words, lines, ...) of a batch: ``values[i]`` belongs to document ``doc[i]``."""

    values: pa.Array
    doc: np.ndarray
    n_docs: int
    #: words only: which whitespace-separated chunk of its document each word came from (0, 1, ...)
    chunk: np.ndarray | None = None

    def per_doc(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``weights`` (or count of pieces) per document."""
        return np.bincount(self.doc, weights=weights, minlength=self.n_docs)

    def lengths(self) -> np.ndarray:
        return pc.utf8_length(self.values).to_numpy(zero_copy_only=False).astype(np.int64)

    def select(self, mask: np.ndarray) -> "Pieces":
        chunk = None if self.chunk is None else self.chunk[mask]
        return Pieces(self.values.filter(pa.array(mask)), self.doc[mask], self.n_docs, chunk)


def flatten(lists: pa.Array | pa.ChunkedArray, n_docs: int) -> Pieces:
    """Pieces from a list array with one list per document."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    doc = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    values = pc.list_flatten(lists)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    return Pieces(values, doc, n_docs)


#: Whitespace-free chunks whose words are known without the full pattern (most of any text):
#: a run of letters or of digits is one word ("cannot" and abbreviations such as "Inc." excepted);
_ONE_WORD = rf"^(?:[\p{{L}}\p{{M}}--{CJK}]+|\d+|.)$"
#: CJK characters mixed only with non-ASCII punctuation and ( ) , ; ! ? are one word per character;
_CHARACTERS = rf"^[{CJK}\p{{P}}\p{{S}}(),;!?--[\p{{ASCII}}--(),;!?]]+$"
#: a word of 2+ letters with one opening and/or one closing punctuation mark is those 2 or 3 words.
_WRAPPED = rf"^([(\[\"“]?)([\p{{L}}\p{{M}}--{CJK}]{{2,}})([,;:!?.)\]\"”]?)$"
_NOT_SIMPLE = r"(?i)^[(\[\"“]?cannot|^[(\[\"“]?" + _ABBREV.removeprefix(r"\b").replace("|[a-zäöü]", "") + "$"


def split_words(text: pa.Array) -> Pieces:
    """Words of every document (see the module docstring for the rules), flattened in order.

    No word spans whitespace, so the text is cut into whitespace-free chunks first and the full pattern
    (:func:`_split_chunks`) runs only on the chunks the simple classes above do not cover: the same words,
    about three times faster, most of all on Chinese and Japanese, where one chunk is a whole sentence.
    """
    # each distinct chunk is split once (a batch repeats two thirds of its chunks), then copied per occurrence
    per_doc, index, dictionary = whitespace_chunks(text)
    doc = np.repeat(np.arange(len(text)), per_doc)
    words, owner = _chunk_words(pl.Series(values=dictionary))
    per_distinct = np.bincount(owner, minlength=len(dictionary))
    n = per_distinct[index]  # words of each chunk occurrence
    start = np.cumsum(per_distinct) - per_distinct
    take = np.repeat(start[index] - (np.cumsum(n) - n), n) + np.arange(n.sum())
    chunk = np.repeat(np.arange(len(index)), n)
    first_chunk = np.cumsum(per_doc) - per_doc
    values = words.to_arrow().cast(pa.string()).take(pa.array(take))
    return Pieces(values, doc[chunk], len(text), chunk - first_chunk[doc[chunk]])


def whitespace_chunks(text: pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """The whitespace-free chunks (``\\S+``) of each document: (chunks per document, each chunk's index
    into the distinct chunks, the distinct chunks in order of first occurrence). One compiled pass over the
    text's bytes (:func:`text_kernels.whitespace_chunks`) instead of a list of strings and a dictionary
    encoding of it."""
    from curate.stages.lib import text_kernels

    offsets, data = text_kernels.string_buffers(as_array(text))
    per_doc, index, starts, ends = text_kernels.whitespace_chunks(data, offsets)
    spans, joined = text_kernels.gather_spans(data, starts, ends)
    dictionary = pa.Array.from_buffers(pa.string(), len(starts), [None, pa.py_buffer(spans), pa.py_buffer(joined)])
    return per_doc, index, dictionary


def _chunk_words(chunks: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """The words of whitespace-free chunks in order, and the chunk each belongs to."""
    kind = pl.DataFrame({"c": chunks}).select(
        pl.when(pl.col("c").str.contains(_NOT_SIMPLE)).then(3)
        .when(pl.col("c").str.contains(_ONE_WORD)).then(0)
        .when(pl.col("c").str.contains(_CHARACTERS)).then(1)
        .when(pl.col("c").str.contains(_WRAPPED)).then(2)
        .otherwise(3)
    ).to_series().to_numpy()
    words, owners = [], []  # per part: its words in order and the chunk each belongs to
    at = np.flatnonzero(kind == 0)
    words.append(chunks.gather(at))
    owners.append(at)
    if len(at := np.flatnonzero(kind == 1)):
        chars = chunks.gather(at).str.split("")
        words.append(chars.explode())
        owners.append(np.repeat(at, chars.list.len().to_numpy()))
    if len(at := np.flatnonzero(kind == 2)):
        parts = chunks.gather(at).str.extract_groups(_WRAPPED).struct.unnest()
        for column in parts.columns:  # opening mark, word, closing mark: in this order per chunk
            part = parts.get_column(column)
            present = (part.str.len_bytes() > 0).to_numpy()
            words.append(part.filter(pl.Series(present)))
            owners.append(at[present])
    if len(at := np.flatnonzero(kind == 3)):
        rest = chunks.gather(at)
        plain = ~(rest.str.contains("@", literal=True) | rest.str.contains("://", literal=True)).to_numpy()
        for subset, pattern in ((plain, _PLAIN_WORD_PATTERN), (~plain, WORD_PATTERN)):
            if subset.any():
                part, owner = _split_chunks(rest.filter(pl.Series(subset)), pattern)
                words.append(part)
                owners.append(at[subset][owner])
    owner = np.concatenate(owners)
    order = np.argsort(owner, kind="stable")  # chunks back in text order; each part keeps its own order
    return pl.concat(words)[order], owner[order]


def _split_chunks(chunks: pl.Series, words_pattern: str = WORD_PATTERN) -> tuple[pl.Series, np.ndarray]:
    """The full rules on whole chunks: their words in order, and the index of the chunk of each."""
    for pattern, replacement in _REWRITES:
        chunks = chunks.str.replace_all(pattern, replacement)
    lists = chunks.str.extract_all(words_pattern)
    owner = np.repeat(np.arange(len(chunks)), lists.list.len().fill_null(0).to_numpy())
    words = lists.explode().drop_nulls()
    inner = words.str.contains("|".join(_INFIX)) & ~words.str.contains(f"^(?:{_URL}|{_EMAIL})$")
    if inner.any():
        # split the few words with an infix: rewrite those words only, re-match, splice back in order
        parts = words.to_frame("w").with_columns(pl.int_range(pl.len()).alias("i")).filter(inner)
        fixed = parts.get_column("w")
        for pattern in _INFIX:
            fixed = fixed.str.replace_all(pattern, "${1} ${2} ${3}")
        pieces = fixed.str.extract_all(words_pattern)
        where = parts.get_column("i").to_numpy()
        keep = np.ones(len(words), dtype=bool)
        keep[where] = False
        index = np.concatenate([np.flatnonzero(keep), np.repeat(where, pieces.list.len().to_numpy())])
        order = np.argsort(index, kind="stable")
        words = pl.concat([words.filter(pl.Series(keep)), pieces.explode().drop_nulls()])[order]
        owner = owner[index[order]]
    return words, owner


def word_classes(words: Pieces) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per word: has a letter/number (not a symbol word), has a letter (alphabetic), is all punctuation.

    Classified once per distinct word (a batch repeats most of its words), then spread by index.
    """
    encoded = pc.dictionary_encode(words.values)
    index = encoded.indices.to_numpy(zero_copy_only=False)
    return tuple(c[index] for c in dictionary_classes(encoded.dictionary))  # type: ignore[return-value]


def dictionary_classes(dictionary: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`word_classes` of each of a list of distinct words."""
    frame = pl.DataFrame({"w": pl.Series(values=dictionary)}).select(
        pl.col("w").str.contains(r"[\p{L}\p{N}\p{M}]").alias("word"),
        pl.col("w").str.contains(r"\p{L}").alias("alpha"),
        pl.col("w").str.contains(r"^\p{P}+$").alias("punct"),
    )
    return tuple(frame.get_column(c).to_numpy() for c in ("word", "alpha", "punct"))  # type: ignore[return-value]


def split_lines(text: pa.Array) -> Pieces:
    """Lines as Python's ``str.splitlines()`` gives them (no trailing empty line; none for empty text)."""
    pieces = flatten(pc.split_pattern_regex(text, _LINE_BREAK), len(text))
    counts = pieces.per_doc()
    last = np.cumsum(counts) - 1
    ends_with_break = pc.match_substring_regex(text, f"(?:{_LINE_BREAK})$").to_numpy(zero_copy_only=False)
    empty = pc.equal(text, "").to_numpy(zero_copy_only=False)
    drop = np.zeros(len(pieces.doc), dtype=bool)
    drop[last[(ends_with_break | empty) & (counts > 0)]] = True
    return pieces.select(~drop)


def split_on(text: pa.Array, pattern: str, regex: bool = True) -> Pieces:
    """Pieces of every document split on ``pattern`` (like ``re.split`` / ``str.split``)."""
    lists = pc.split_pattern_regex(text, pattern) if regex else pc.split_pattern(text, pattern)
    return flatten(lists, len(text))


def piece_ids(pieces: Pieces) -> np.ndarray:
    """An integer per piece, equal for equal strings within the batch (exact, from a dictionary)."""
    encoded = pc.dictionary_encode(pieces.values)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.uint64)


def duplicates(doc: np.ndarray, key: np.ndarray) -> np.ndarray:
    """True where ``key`` already occurred earlier in the same document (first occurrence is not a duplicate).

    One hash pass over a single 64-bit column (a window per document costs twice as much): the document
    fills the high half above keys under 2**32 (piece ids: exact); larger keys, the n-gram hashes, are
    mixed with the document, so a false match is as unlikely as two n-grams sharing a hash.
    """
    key = key.astype(np.uint64, copy=False)
    owner = doc.astype(np.uint64)
    if len(key) == 0 or key.max() < np.uint64(1 << 32):
        joint = (owner << np.uint64(32)) | key
    else:
        with np.errstate(over="ignore"):
            joint = key ^ owner * DOC_MIX
    return ~pl.Series(joint).is_first_distinct().to_numpy()


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with 0 where den is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def first_failure(rules: list[tuple[str, np.ndarray]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep mask and, per row, the name of the first failing rule in ``rules`` order ("" when kept)."""
    reasons = np.full(n, "", dtype=object)
    failed = np.zeros(n, dtype=bool)
    for name, fails in rules:
        new = fails & ~failed
        reasons[new] = name
        failed |= fails
    return ~failed, reasons
