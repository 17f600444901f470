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
