"""MinHash near-duplicate detection as vectorised building blocks (no stage here: see ``minhash_dedup``).

The steps, each a function that works on whole batches with numpy / pyarrow:

1. :func:`word_tokens` / :func:`char_tokens` — normalise (lower case, digits to ``0``, punctuation and
   symbols to spaces) and split into words, or, for languages written without spaces (zh / ja / ko), into
   characters.
2. :func:`token_hashes` and :func:`shingle_hashes` — xxhash each *distinct* token of the batch once, then
   combine ``n`` consecutive token hashes into a shingle hash with 64-bit polynomial arithmetic.
3. :func:`signatures` — MinHash with universal hashing ``(a·x + b) mod 2**32`` (odd ``a``: a permutation
   of the 32-bit space), min-reduced per document with ``np.minimum.reduceat``.
4. :func:`band_hashes` — one 64-bit key per LSH band; documents that share a key in some band are
   candidates.
5. :func:`bucket_pairs` — candidate pairs from one band's (key, doc) rows sorted by key.
6. :func:`signature_similarity` — the estimated Jaccard of each pair, to verify before union.
7. :func:`large_star` / :func:`small_star` — connected components by alternating star contractions
   (Kiveris et al., "Connected Components in MapReduce and Beyond", 2014). Each works on the edges of the
   nodes one hash partition owns, so the clustering runs as parallel tasks (``minhash_clusters``); it
   ends with every component a star around its smallest node, so "first in input order" falls out when
   nodes are input positions.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.core.hashing import GOLDEN, MIX1, MIX2, hash_strings

#: Scripts written without spaces between words: each character is a token.
CJK = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]"

_MAX32 = np.uint32(0xFFFFFFFF)


def normalised(text: pa.Array | pa.ChunkedArray, fold_digits: bool = True) -> pa.Array | pa.ChunkedArray:
    """Lower case, every digit ``0`` (unless not ``fold_digits``), runs of punctuation and symbols one space."""
    out = pc.utf8_lower(text)
    if fold_digits:
        out = pc.replace_substring_regex(out, r"\d", "0")
    return pc.replace_substring_regex(out, r"[\p{P}\p{S}]+", " ")


def cjk_share(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Fraction of characters that are CJK, per document (0 for empty text)."""
    cjk = pc.count_substring_regex(text, CJK).to_numpy(zero_copy_only=False).astype(np.float64)
    total = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.float64)
    return np.divide(cjk, total, out=np.zeros_like(cjk), where=total > 0)


def _offsets(lengths: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def word_tokens(text: pa.Array | pa.ChunkedArray, fold_digits: bool = True) -> tuple[pa.Array, np.ndarray]:
    """Words of every normalised document, flattened, and the ``len(text) + 1`` offsets that cut them."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    lists = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(normalised(text.fill_null(""), fold_digits)))
    offsets = lists.offsets.to_numpy()
    values = lists.flatten()
    filled = pc.greater(pc.utf8_length(values), 0).to_numpy(zero_copy_only=False)  # "" splits into [""]
    if filled.all():
        return values, (offsets - offsets[0]).astype(np.int64)
    doc = np.repeat(np.arange(len(text)), np.diff(offsets))
    return values.filter(pa.array(filled)), _offsets(np.bincount(doc[filled], minlength=len(text)))


def char_tokens(text: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Code points of every normalised document without whitespace (uint32), flattened, and offsets."""
    squeezed = pc.replace_substring_regex(normalised(text.fill_null("")), r"\s+", "")
    lengths = pc.utf8_length(squeezed).to_numpy(zero_copy_only=False)
    joined = "".join(squeezed.to_pylist())  # one encode for the whole batch
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32), _offsets(lengths)


def token_hashes(values: pa.Array | np.ndarray, seed: int) -> np.ndarray:
    """xxhash64 of every token (strings, or code points), hashing each distinct token of the batch once."""
    if len(values) == 0:
        return np.empty(0, dtype=np.uint64)
    # per-row Python path over the batch vocabulary only (xxhash has no Arrow kernel)
    if isinstance(values, np.ndarray):
        seen = np.zeros(0x110000, dtype=bool)  # every Unicode code point: a table beats sorting
        seen[values] = True
        vocab = np.flatnonzero(seen)
        index = (np.cumsum(seen) - 1)[values]
        words = [chr(c) for c in vocab.tolist()]
    else:
        encoded = pc.dictionary_encode(values)
        words, index = encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)
    hashed = hash_strings(words, seed=seed)
    return hashed[index]


def shingle_hashes(token_hash: np.ndarray, offsets: np.ndarray, n: int, wide: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every shingle (``n`` consecutive tokens of a document) and their offsets per doc.

    A document shorter than ``n`` tokens is one shingle (all its tokens); an empty one has none.
    ``wide``: the full 64-bit hashes (uint64), for exact-match lookups in large sets (decontamination).
    """
    lengths = np.diff(offsets)
    total = len(token_hash)
    padded = np.concatenate([token_hash, np.zeros(n, dtype=np.uint64)])
    ends = np.repeat(offsets[1:], lengths)
    pos = np.arange(total, dtype=np.int64)
    valid = pos + n <= ends
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    valid[offsets[short]] = True
    with np.errstate(over="ignore"):
        h = padded[:total].copy()
        for j in range(1, n):
            h *= GOLDEN
            h += padded[j : j + total]
        if len(short):  # fold only the tokens a short document has
            starts, count = offsets[short], lengths[short]
            g = padded[starts].copy()
            for j in range(1, n):
                g = np.where(j < count, g * GOLDEN + padded[starts + j], g)
            h[starts] = g
        h ^= h >> np.uint64(31)
        h *= MIX1
        h ^= h >> np.uint64(29)
        h *= MIX2
        h ^= h >> np.uint64(32)
    counts = np.maximum(lengths - n + 1, (lengths > 0).astype(np.int64))
    out = h[valid] if wide else (h[valid] >> np.uint64(32)).astype(np.uint32)
    return out, _offsets(counts)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` of ``num_perm`` universal hash functions ``a·x + b mod 2**32``, ``a`` odd."""
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(1, 2**32, num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def signatures(
    shingles: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 8192
) -> np.ndarray:
    """MinHash signatures ``[docs, num_perm]`` (uint32); a document without shingles is all ``2**32-1``.

    Shingles are processed ``chunk`` at a time so memory stays at ``chunk × num_perm × 4`` bytes whatever
    the batch holds; a document cut by a chunk boundary is min-merged across chunks.
    """
    docs = len(offsets) - 1
    sig = np.full((len(a), docs), _MAX32, dtype=np.uint32)  # permutation-major: reduceat runs along rows
    doc_of = np.repeat(np.arange(docs), np.diff(offsets))
    buf = np.empty((len(a), chunk), dtype=np.uint32)
    for start in range(0, len(shingles), chunk):
        x = shingles[start : start + chunk]
        part = buf[:, : len(x)]
        np.multiply(a[:, None], x[None, :], out=part)
        part += b[:, None]
        d = doc_of[start : start + len(x)]
        cuts = np.concatenate([[0], np.flatnonzero(d[1:] != d[:-1]) + 1])
        owners = d[cuts]
        sig[:, owners] = np.minimum(sig[:, owners], np.minimum.reduceat(part, cuts, axis=1))
    return np.ascontiguousarray(sig.T)


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``[docs, bands]`` uint64 keys: a hash of the ``rows`` signature values of each band."""
    out = np.empty((sig.shape[0], bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(bands):
            h = np.full(sig.shape[0], np.uint64(k) * MIX2 + np.uint64(1), dtype=np.uint64)
            for v in sig[:, k * rows : (k + 1) * rows].T:
                h = (h ^ v.astype(np.uint64)) * GOLDEN
                h ^= h >> np.uint64(32)
            out[:, k] = h
    return out


@lru_cache(maxsize=64)
def lsh_shape(threshold: float, num_perm: int, fp_weight: float, fn_weight: float) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false positive + false negative areas, as datasketch chooses.

    The same search as datasketch's ``_optimal_param``, all (bands, rows) at once: the probability that
    a pair of similarity s shares a band, ``1 - (1 - s^rows)^bands``, is a polynomial of degree at most
    ``num_perm``, so Gauss-Legendre quadrature with ``num_perm // 2 + 1`` nodes integrates it exactly
    (datasketch integrates numerically with scipy, whose import alone costs seconds per process).
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], dtype=np.float64)
    bands, rows = pairs[:, :1], pairs[:, 1:]

    def area(lo: float, hi: float, false: bool) -> np.ndarray:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2
        miss = (1 - s**rows) ** bands  # probability that no band matches
        return (hi - lo) / 2 * ((miss if false else 1 - miss) @ weights)

    error = area(0.0, threshold, False) * fp_weight + area(threshold, 1.0, True) * fn_weight
    b, r = pairs[int(np.argmin(error))]
    return int(b), int(r)


def bucket_pairs(keys: np.ndarray, nodes: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs ``(earlier, later)`` among rows sorted by (key, node) that share a key.

    Each node is paired with the next ``window`` nodes of its bucket, so a bucket of up to ``window + 1``
    documents yields all its pairs and a huge bucket (boilerplate) costs ``O(size × window)``, not
    ``O(size²)``.
    """
    src, dst = [], []
    for d in range(1, window + 1):
        same = keys[:-d] == keys[d:]
        if not same.any():
            break
        src.append(nodes[:-d][same])
        dst.append(nodes[d:][same])
    if not src:
        return np.empty(0, nodes.dtype), np.empty(0, nodes.dtype)
    return np.concatenate(src), np.concatenate(dst)


def signature_similarity(a: np.ndarray, b: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Estimated Jaccard of each pair of aligned signature rows: the share of equal MinHash values."""
    out = np.empty(len(a), dtype=np.float64)
    for s in range(0, len(a), chunk):
        out[s : s + chunk] = (a[s : s + chunk] == b[s : s + chunk]).mean(axis=1)
    return out


def _unique_edges(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges sorted by (u, v), repeats removed."""
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    keep = np.ones(len(u), dtype=bool)
    keep[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return u[keep], v[keep]


def _neighbourhoods(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start of each node's run of edges in ``u`` (sorted) and the run lengths (its degree)."""
    starts = np.flatnonzero(np.concatenate([[True], u[1:] != u[:-1]])) if len(u) else np.empty(0, np.int64)
    return starts, np.diff(np.concatenate([starts, [len(u)]]))


def large_star(u: np.ndarray, v: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray], int]:
    """One large-star step over adjacency rows ``u → v`` (every edge listed from both ends).

    Each node ``u`` links its larger neighbours to ``m(u)``, the smallest of itself and its neighbours.
    Returns:

    * the new edges ``(big, small)``, for :func:`small_star` keyed by ``big``;
    * the star rows ``(member, center, size)`` of nodes that are star centres (no smaller neighbour),
      meaningful once the whole graph is stars;
    * how many nodes break the star shape (neither a centre nor a leaf with one smaller neighbour);
      when that is 0 across all partitions, every component is a star around its smallest node.
    """
    u, v = _unique_edges(u, v)
    starts, degree = _neighbourhoods(u)
    nodes = u[starts]
    smallest = np.minimum(v[starts], nodes) if len(u) else nodes  # v is sorted within each node
    smaller = np.add.reduceat((v < u).astype(np.int64), starts) if len(u) else degree
    center = smaller == 0
    leaf = (smaller == 1) & (degree == 1)
    bigger = v > u
    edges = (v[bigger], np.repeat(smallest, degree)[bigger])
    of_center = np.repeat(center, degree)
    stars = (
        np.concatenate([nodes[center], v[of_center]]),
        np.concatenate([nodes[center], u[of_center]]),
        np.concatenate([degree[center] + 1, np.repeat(degree + 1, degree)[of_center]]),
    )
    return edges, stars, int((~(center | leaf)).sum())


def small_star(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One small-star step over rows ``u → v`` with ``v < u`` (each edge listed at its larger end).

    Each node links itself and its smaller neighbours to the smallest of them. Returns the new edges
    listed from both ends, ready for :func:`large_star`.
    """
    u, v = _unique_edges(u, v)
    starts, degree = _neighbourhoods(u)
    smallest = v[starts]
    to = np.repeat(smallest, degree)
    moved = v != to
    a = np.concatenate([v[moved], u[starts]])
    b = np.concatenate([to[moved], smallest])
    return np.concatenate([a, b]), np.concatenate([b, a])
