"""``curate train-classifier``: wiring of fastText classifier training (:mod:`curate.scorers.train_classifier`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow as pa

from curate.core.errors import InputError
from curate.scorers.train_classifier import __doc__ as TRAIN_DOC
from curate.scorers.train_classifier import read_labelled


def _run(args: argparse.Namespace) -> int:
    from curate.scorers.fasttext_classifier import TrainConfig, save_report, train

    if args.data:
        if args.positive or args.negative:
            raise InputError("give either --data with --label-column, or --positive and --negative, not both")
        texts, labels = read_labelled(args.data, args.text_column, args.label_column, None)
    else:
        if not (args.positive and args.negative):
            raise InputError("give both --positive and --negative (or --data with --label-column)")
        pos_t, pos_l = read_labelled(args.positive, args.text_column, None, args.positive_label)
        neg_t, neg_l = read_labelled(args.negative, args.text_column, None, args.negative_label)
        texts, labels = pa.chunked_array(pos_t.chunks + neg_t.chunks, pa.string()), pos_l + neg_l
    config = TrainConfig(
        epoch=args.epoch, lr=args.lr, word_ngrams=args.word_ngrams, dim=args.dim, bucket=args.bucket,
        min_count=args.min_count, seed=args.seed, valid_fraction=args.valid_fraction, max_chars=args.max_chars,
    )
    report = train(texts, labels, args.output, config)
    metrics_path = save_report(report, args.output)
    print(f"{args.output}: trained on {report.train_examples:,} examples, held out {report.valid_examples:,}")
    for label, m in sorted(report.metrics.items()):
        print(f"  {label:<20} precision {m.precision:.3f}  recall {m.recall:.3f}  (held out {m.support:,})")
    held = [m.support for m in report.metrics.values()]
    majority = max(held) / sum(held) if sum(held) else float("nan")
    print(f"  accuracy {report.accuracy:.3f} (agreement with the labels; majority-label baseline {majority:.3f}) — metrics in {metrics_path}")
    if args.json:
        print(json.dumps(report.to_json(), sort_keys=True))
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train-classifier`` command to the ``curate`` parser."""
    p = subparsers.add_parser(
        "train-classifier",
        help="train a fastText quality or domain classifier",
        description=TRAIN_DOC.split("\n\n")[0] + " Positive/negative sets or a label column; words and bigrams; "
        "held-out precision/recall printed and saved as MODEL.metrics.json.",
    )
    p.add_argument("-o", "--output", required=True, type=Path, help="model file to write (.bin, or .ftz to quantise)")
    p.add_argument("--positive", nargs="+", metavar="PATH", help="files/globs of the positive set")
    p.add_argument("--negative", nargs="+", metavar="PATH", help="files/globs of the negative set")
    p.add_argument("--positive-label", default="hq", help="label name of the positive set (default: hq)")
    p.add_argument("--negative-label", default="lq", help="label name of the negative set (default: lq)")
    p.add_argument("--data", nargs="+", metavar="PATH", help="files/globs of one labelled set (with --label-column)")
    p.add_argument("--label-column", default="label", help="column holding each document's label (default: label)")
    p.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    p.add_argument("--epoch", type=int, default=5, help="passes over the data (default: 5)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default: 0.1)")
    p.add_argument("--word-ngrams", type=int, default=2, help="word n-gram length; 2 = bigrams (default: 2)")
    p.add_argument("--dim", type=int, default=16, help="embedding size (default: 16)")
    p.add_argument("--bucket", type=int, default=200_000, help="n-gram hash buckets; model size ~ bucket*dim*4 bytes")
    p.add_argument("--min-count", type=int, default=1, help="ignore words seen fewer times (default: 1)")
    p.add_argument("--max-chars", type=int, help="train on the first N characters of each text")
    p.add_argument("--valid-fraction", type=float, default=0.1, help="share of each label held out (default: 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the shuffle and fastText (default: 0)")
    p.add_argument("--json", action="store_true", help="also print the full report as one JSON line")
    p.set_defaults(func=_run)
