"""The MinHash building blocks: shingles, signatures, LSH shape, bucket pairs, star-contraction components."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curate.stages.lib import minhash as mh


def _signature(texts: list[str], n: int = 5, num_perm: int = 256, chars: bool = False) -> np.ndarray:
    values, offsets = (mh.char_tokens if chars else mh.word_tokens)(pa.array(texts))
    shingles, shingle_offsets = mh.shingle_hashes(mh.token_hashes(values, 7), offsets, n)
    a, b = mh.permutations(num_perm, 7)
    return mh.signatures(shingles, shingle_offsets, a, b)


def test_normalisation_sees_through_case_punctuation_digits_and_spacing() -> None:
    sig = _signature(["The cat, sat on 12 mats!  Really.", "the cat sat on 99 mats really"], n=2)
    assert (sig[0] == sig[1]).all()


def test_signature_jaccard_estimates_exact_jaccard() -> None:
    rng = np.random.default_rng(3)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = ["".join(rng.choice(letters, 6)) for _ in range(5000)]  # letters only: digits normalise to 0
    base = list(rng.choice(words, 400))
    edited = list(base)
    for p in rng.choice(400, 12, replace=False):
        edited[p] = "edit" + "".join(rng.choice(letters, 6))
    shingles = lambda t: {tuple(t[i : i + 5]) for i in range(len(t) - 4)}  # noqa: E731
    exact = len(shingles(base) & shingles(edited)) / len(shingles(base) | shingles(edited))
    sig = _signature([" ".join(base), " ".join(edited)])
    estimate = mh.signature_similarity(sig[:1], sig[1:2])[0]
    assert abs(estimate - exact) < 0.08  # ~3 standard deviations at 256 permutations


def test_short_and_empty_documents() -> None:
    values, offsets = mh.word_tokens(pa.array(["one two", "", "one two", "one two three"]))
    shingles, shingle_offsets = mh.shingle_hashes(mh.token_hashes(values, 0), offsets, 5)
    assert np.diff(shingle_offsets).tolist() == [1, 0, 1, 1]
    assert shingles[0] == shingles[1] != shingles[2]


def test_chinese_is_shingled_by_characters() -> None:
    values, offsets = mh.char_tokens(pa.array(["我们 今天，去公园。", "ab"]))
    assert offsets.tolist() == [0, 7, 9]
    assert "".join(chr(c) for c in values[:7]) == "我们今天去公园"


def test_lsh_shape_is_datasketchs_optimum() -> None:
    from datasketch.lsh import _optimal_param

    for num_perm in (64, 112, 128, 256):
        for threshold in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
            for fp_weight in (0.5, 0.3):
                ours = mh.lsh_shape(threshold, num_perm, fp_weight, 1 - fp_weight)
                assert ours == _optimal_param(threshold, num_perm, fp_weight, 1 - fp_weight), (num_perm, threshold)
    bands, rows = mh.lsh_shape(0.8, 128, 0.1, 0.9)
    assert bands * rows <= 128 and bands > 9  # weighting misses more buys more bands


def test_bucket_pairs_caps_big_buckets() -> None:
    keys = np.array([1, 1, 1, 2, 3, 3] + [9] * 100, dtype=np.uint64)
    nodes = np.arange(len(keys), dtype=np.int64)
    src, dst = mh.bucket_pairs(keys, nodes, window=4)
    pairs = set(zip(src.tolist(), dst.tolist()))
    assert {(0, 1), (0, 2), (1, 2), (4, 5)} <= pairs
    assert not any(s in (3,) or d in (3,) for s, d in pairs)
    assert len(pairs) == 4 + sum(min(4, 99 - i) for i in range(100))


def star_components(n: int, src: np.ndarray, dst: np.ndarray, parts: int) -> tuple[np.ndarray, int]:
    """Label of each node 0..n-1 by alternating star contractions over ``parts`` node partitions, exactly
    as the reduce tasks do (each partition sees only the edges of the nodes it owns); and the rounds taken."""
    owner = lambda nodes: nodes % parts  # noqa: E731
    u, v = np.concatenate([src, dst]), np.concatenate([dst, src])
    for rounds in range(64):
        results = [mh.large_star(u[owner(u) == q], v[owner(u) == q]) for q in range(parts)]
        if sum(broken for _, _, broken in results) == 0:
            label = np.arange(n)
            for _, (member, center, size), _ in results:
                label[member] = center
            return label, rounds
        big = np.concatenate([e[0] for e, _, _ in results])
        small = np.concatenate([e[1] for e, _, _ in results])
        parts_out = [mh.small_star(big[owner(big) == q], small[owner(big) == q]) for q in range(parts)]
        u, v = np.concatenate([a for a, _ in parts_out]), np.concatenate([b for _, b in parts_out])
    raise AssertionError("did not settle")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("parts", [1, 7])
def test_star_contraction_matches_scipy_and_labels_with_the_smallest_node(seed: int, parts: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    src, dst = rng.integers(0, n, 1500), rng.integers(0, n, 1500)
    keep = src != dst
    label, _ = star_components(n, src[keep], dst[keep], parts)
    _, reference = connected_components(coo_matrix((np.ones(keep.sum()), (src[keep], dst[keep])), shape=(n, n)), directed=False)
    for comp in np.unique(reference):
        members = np.flatnonzero(reference == comp)
        assert (label[members] == members.min()).all()


def test_star_contraction_settles_a_long_chain_in_few_rounds() -> None:
    n = 5000
    order = np.random.default_rng(0).permutation(n)
    label, rounds = star_components(n, order[:-1], order[1:], parts=4)
    assert (label == 0).all()
    assert rounds <= 40  # O(log² n); a chain is the worst shape


def test_star_sizes_count_every_member() -> None:
    src, dst = np.array([5, 6, 7, 20]), np.array([6, 7, 9, 21])  # {5,6,7,9} and {20,21}
    u, v = np.concatenate([src, dst]), np.concatenate([dst, src])
    for _ in range(10):
        edges, (member, center, size), broken = mh.large_star(u, v)
        if not broken:
            break
        u, v = mh.small_star(*edges)
    got = {int(m): (int(c), int(s)) for m, c, s in zip(member, center, size)}
    assert got == {5: (5, 4), 6: (5, 4), 7: (5, 4), 9: (5, 4), 20: (20, 2), 21: (20, 2)}
