"""Words of the batch the row-wise filters share: split once, looked up by every later filter.

Row-wise filters run batch by batch (:func:`curate.engine.pipeline.run_map_steps`), so the Gopher,
FineWeb and C4 filters after the first one get a subset of the batch it split. Each finds its documents
in that batch by a hash of their text (confirmed equal) and takes their words, word ids, word classes,
or the words of each line, from what was computed once for the whole batch. Memory: one batch's words
and what derives from them, per process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.stages.lib import text_stats as ts


@dataclass
class _SplitBatch:
    """A batch :func:`document_words` split: its text, words and the lookup from text hash to document,
    and what the filters derive from all its words once (integer ids, classes)."""

    text: pa.Array
    words: ts.Pieces
    _hashes: tuple[np.ndarray, np.ndarray] | None = None  # (document order by hash, sorted hashes)
    _query: tuple[pa.Array, np.ndarray] | None = None  # the last text looked up and its documents here
    _starts: np.ndarray | None = None  # where each document's words start, and the end
    _ids: np.ndarray | None = None  # each word's index in _dictionary
    _dictionary: pa.Array | None = None  # the distinct words
    _classes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # word_classes of the distinct words

    def documents(self, text: pa.Array) -> np.ndarray | None:
        """For each document of ``text``, the index of the same document in this batch; None if one is missing."""
        if self._query is not None and self._query[0] is text:  # the same filter asking again
            return self._query[1]
        if self._hashes is None:  # built on the first lookup, then reused by every later filter
            seen = pl.Series(values=self.text).hash().to_numpy()
            order = np.argsort(seen, kind="stable")
            self._hashes = (order, seen[order])
        order, sorted_hashes = self._hashes
        wanted = pl.Series(values=text).hash().to_numpy()
        at = np.minimum(np.searchsorted(sorted_hashes, wanted), len(sorted_hashes) - 1)
        if not (sorted_hashes[at] == wanted).all():
            return None
        source = order[at]
        if not pc.all(pc.equal(self.text.take(pa.array(source)), text)).as_py():  # a hash collision: no reuse
            return None
        self._query = (text, source)
        return source

    def rows_of(self, source: np.ndarray) -> np.ndarray:
        """Where the words of documents ``source`` of this batch sit in :attr:`words`, in order."""
        if self._starts is None:
            self._starts = np.concatenate([[0], np.cumsum(np.bincount(self.words.doc, minlength=self.words.n_docs))])
        n = np.diff(self._starts)[source]
        return np.repeat(self._starts[source] - np.concatenate([[0], np.cumsum(n)[:-1]]), n) + np.arange(n.sum())

    def words_of(self, source: np.ndarray) -> ts.Pieces:
        """The words of documents ``source`` of this batch, as a batch of their own."""
        take = self.rows_of(source)
        n = np.diff(self._starts)[source]
        chunk = self.words.chunk[take] if self.words.chunk is not None else None
        return ts.Pieces(self.words.values.take(pa.array(take)), np.repeat(np.arange(len(source)), n), len(source), chunk)

    def ids_of(self, source: np.ndarray) -> np.ndarray:
        """``ts.piece_ids`` of :meth:`words_of`, from one dictionary of the whole batch."""
        if self._ids is None:
            encoded = pc.dictionary_encode(self.words.values)
            self._ids = encoded.indices.to_numpy(zero_copy_only=False).astype(np.uint64)
            self._dictionary = encoded.dictionary
        return self._ids[self.rows_of(source)]

    def classes_of(self, source: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``ts.word_classes`` of :meth:`words_of`, each distinct word of the batch classified once."""
        ids = self.ids_of(source)
        if self._classes is None:
            self._classes = ts.dictionary_classes(self._dictionary)
        return tuple(c[ids] for c in self._classes)  # type: ignore[return-value]


#: The last batch :func:`document_words` split: one batch per process, so bounded.
_last: _SplitBatch | None = None


def _split_batch(text: pa.Array) -> tuple[_SplitBatch, np.ndarray]:
    """The split batch holding the documents of ``text`` (the last one, or ``text`` split now) and where."""
    global _last
    if _last is not None and 0 < len(text) <= len(_last.text) and (source := _last.documents(text)) is not None:
        return _last, source
    _last = _SplitBatch(text, ts.split_words(text))
    return _last, np.arange(len(text))


def document_words(text: pa.Array) -> ts.Pieces:
    """````ts.split_words`` of a batch of documents, taken from the last batch split if it holds them all."""
    batch, source = _split_batch(text)
    return batch.words if len(source) == len(batch.text) and batch.text is text else batch.words_of(source)


def document_word_ids(text: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """``ts.piece_ids`` of :func:`document_words` of ``text`` and the distinct words they index, encoded
    once per split batch (equal words have equal ids across all its documents)."""
    batch, source = _split_batch(text)
    return batch.ids_of(source), batch._dictionary


def document_word_classes(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``ts.word_classes`` of :func:`document_words` of ``text``, classified once per split batch."""
    batch, source = _split_batch(text)
    return batch.classes_of(source)


#: Characters Arrow trims as whitespace, or Python breaks lines at, that the word split reads as text.
_NOT_SPACE = "[\x1c-\x1f]"


def line_words(text: pa.Array, lines: ts.Pieces, line_text: pa.Array) -> tuple[ts.Pieces, np.ndarray]:
    """Words of each line (``doc`` of a word is its line's index), as ``ts.split_words`` of ``line_text``,
    and how many words each line had before (as ``ts.split_words`` of the line trimmed).

    ``lines`` are ``ts.split_lines`` of ``text`` and ``line_text`` the text a filter made of them. No
    word spans whitespace and every line break is whitespace, so the words of a line whose text is its
    original line trimmed are the document's words (:func:`document_words`, already split by an earlier
    filter of the batch) of that line's chunks: only changed lines, and lines of documents holding
    characters Arrow trims but the split keeps (U+001C..U+001F), are split again.
    """
    words = document_words(text)
    trimmed = pc.utf8_trim_whitespace(lines.values)
    chunks = pl.Series(values=lines.values).str.count_matches(r"\S+").to_numpy().astype(np.int64)
    line_end = np.cumsum(chunks)  # chunks numbered across the batch: each line's end
    doc_chunks = lines.per_doc(chunks).astype(np.int64)
    per_doc = np.bincount(words.doc, minlength=words.n_docs)
    word_chunks = np.zeros(words.n_docs, dtype=np.int64)  # chunks the split saw: its last word's, plus one
    has = per_doc > 0
    word_chunks[has] = words.chunk[(np.cumsum(per_doc) - 1)[has]] + 1
    split = (word_chunks != doc_chunks) | pc.match_substring_regex(text, _NOT_SPACE).to_numpy(zero_copy_only=False)
    doc_first = np.cumsum(doc_chunks) - doc_chunks
    reuse = np.flatnonzero(~split[words.doc])
    line_of = np.searchsorted(line_end, doc_first[words.doc[reuse]] + words.chunk[reuse], side="right")
    before = np.bincount(line_of, minlength=len(lines.doc)).astype(np.float64)
    if (alone := split[lines.doc]).any():
        before[alone] = ts.split_words(trimmed.filter(pa.array(alone))).per_doc()
    redo = alone | ~pc.equal(trimmed, line_text).to_numpy(zero_copy_only=False)
    reuse, line_of = reuse[~redo[line_of]], line_of[~redo[line_of]]
    again = np.flatnonzero(redo)
    fresh = ts.split_words(line_text.filter(pa.array(redo)))
    line = np.concatenate([line_of, again[fresh.doc]])
    order = np.argsort(line, kind="stable")
    values = pa.concat_arrays([words.values.take(pa.array(reuse)), fresh.values]).take(pa.array(order))
    return ts.Pieces(values, line[order], len(lines.doc)), before
