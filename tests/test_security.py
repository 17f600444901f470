"""Model files load only in safe formats, and secrets never reach outputs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("curate", "stages", "scorers", "synth") for p in (ROOT / d).rglob("*.py")]


def test_no_unsafe_deserialisation_in_the_product() -> None:
    offenders = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\bpickle\.loads?\(", r"\bdill\.loads?\(", r"\bjoblib\.load\("):
            offenders += [f"{path.relative_to(ROOT)}: {pattern}" for _ in re.finditer(pattern, text)]
        for match in re.finditer(r"torch\.load\(([^)]*)\)", text):
            if "weights_only=True" not in match.group(1):
                offenders.append(f"{path.relative_to(ROOT)}: torch.load without weights_only=True")
        if re.search(r"trust_remote_code\s*=\s*True", text):
            offenders.append(f"{path.relative_to(ROOT)}: trust_remote_code=True")
    assert not offenders, "unsafe loading:\n" + "\n".join(offenders)


def test_a_token_in_the_environment_appears_in_no_run_output(corpus, write_recipe, tmp_path, monkeypatch) -> None:
    from corpora import BASIC_RECIPE

    from curate.cli import main

    secret = "hf_supersecret_token_value_123"
    monkeypatch.setenv("HF_TOKEN", secret)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    out = tmp_path / "out"
    assert main(["run", str(write_recipe(BASIC_RECIPE.format(input=corpus))), "-o", str(out), "--quiet"]) == 0
    assert main(["inspect", str(out)]) == 0
    for path in out.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


MIXTURE = """\
name: secret-scan
seed: 0
tokenizer: {{path: {tokenizer}, eod_token: "<|endoftext|>"}}
sources:
  - {{name: web, path: {run}, category: web}}
output: {{rows_per_shard: 100, tokenize: true}}
"""


def test_no_secret_reaches_any_file_or_log_of_run_mix_compare_and_publish(corpus, write_recipe, tmp_path, monkeypatch, capfd) -> None:
    """Every file that run, inspect, report, mix, proxy compare and publish --dry-run write, and everything they
    print, is free of the tokens in the environment."""
    from corpora import BASIC_RECIPE

    from curate.cli import main
    from curate.mix.blend import build_mixture
    from curate.mix.config import load_mixture
    from curate.proxy.compare import compare
    from curate.proxy.config import CompareConfig

    secret = "hf_supersecret_token_value_456"
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, secret)
    run = tmp_path / "run"
    assert main(["run", str(write_recipe(BASIC_RECIPE.format(input=corpus))), "-o", str(run)]) == 0
    assert main(["inspect", str(run)]) == 0
    assert main(["report", str(run)]) == 0
    mixture = tmp_path / "mixture.yaml"
    mixture.write_text(MIXTURE.format(tokenizer=ROOT / "data" / "tokenizer" / "sample-bpe.json", run=run), encoding="utf-8")
    build_mixture(load_mixture(mixture), tmp_path / "mix", mixture_file=str(mixture))
    cfg = CompareConfig.model_validate({
        "baseline": "run", "candidates": {"run": [str(run / "data")], "mix": [str(tmp_path / "mix" / "data")]},
        "tokenizer": {"vocab_size": 300},
        "model": {"hidden": 16, "layers": 1, "heads": 2, "kv_heads": 1, "intermediate": 32, "context": 16},
        "train": {"tokens": 4 * 16 * 3, "batch_size": 4, "lr": 0.01, "log_every": 1},
        "seeds": [0], "eval": {"heldout_fraction": 0.2, "tasks": [], "bootstrap": 10},
    })
    compare(cfg, tmp_path / "compare")
    assert main(["publish", str(run), "--repo", "org/scan", "--dry-run", str(tmp_path / "hub")]) == 0

    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(corpus)]
    assert len(written) > 40
    leaks = [str(p) for p in written if secret.encode() in p.read_bytes()]
    assert not leaks, leaks
    printed = capfd.readouterr()
    assert printed.out and secret not in printed.out + printed.err


def test_publish_never_follows_a_symlink_out_of_the_run_and_never_stages_work(tmp_path) -> None:
    import shutil

    import pytest

    from curate.core.errors import OutputError
    from curate.publish.hub import publish
    from tests.report.test_report import build_run

    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "id_rsa.png").write_bytes(b"-----BEGIN PRIVATE KEY-----")
    run = build_run(tmp_path / "built")
    (run / "_work").mkdir()
    (run / "_work" / "left.json").write_text("{}")  # a run's scratch: never published

    staged = publish(str(run), "org/name", dry_run=str(tmp_path / "ok"), say=lambda *_: None)
    assert {p.name for p in staged.iterdir()} <= {"README.md", "data", "report"}
    assert not list(staged.rglob("_work")) and not list(staged.rglob("*.json"))

    (run / "report").mkdir(exist_ok=True)
    (run / "report" / "zz.png").symlink_to(outside / "id_rsa.png")
    with pytest.raises(OutputError, match=r"report/zz.png leads out of .* \(a symbolic link to .*private/id_rsa.png\)"):
        publish(str(run), "org/name", dry_run=str(tmp_path / "plot"), say=lambda *_: None)
    (run / "report" / "zz.png").unlink()

    shutil.move(run / "data" / "part-00001.parquet", outside / "part.parquet")
    (run / "data" / "part-00001.parquet").symlink_to(outside / "part.parquet")
    with pytest.raises(OutputError, match=r"data/part-00001.parquet leads out of"):
        publish(str(run), "org/name", dry_run=str(tmp_path / "data"), say=lambda *_: None)
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").rglob("*.parquet"))
