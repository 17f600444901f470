"""``curate publish``: the dry-run folder (card, configs, data files) and the upload's error paths.

Error handling is tested against a closed local port (network failure) and a local HTTP server answering
like a Hub that refuses (401, 403); uploads and resumes against a local Hub are in test_publish_resume.py.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from curate.core.errors import OutputError
from curate.publish.hub import PublishError, publish
from curate.report.html import build_report
from tests.report.test_report import LANGS, build_run

SECRET = "hf_secretTOKEN0123456789abcdefXYZ"
ROOT = Path(__file__).resolve().parents[2]

# The command line as users run it; `curate.cli` gains these subcommands when it registers them.
CLI = """
import argparse, sys
from curate.core.errors import CurateError
from curate.cli.publish import register_cli
parser = argparse.ArgumentParser(prog="curate")
register_cli(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
try:
    sys.exit(args.func(args))
except CurateError as exc:
    print(f"curate: error: {exc}", file=sys.stderr)
    sys.exit(2)
"""


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = build_run(tmp_path_factory.mktemp("publish"))
    build_report(out)
    return out


def _kept_ids(out: Path) -> list[str]:
    return sorted(pl.read_parquet(out / "data" / "*.parquet", columns=["id"])["id"].to_list())


def _config_files(folder: Path, config: dict) -> list[Path]:
    [entry] = config["data_files"]
    assert entry["split"] == "train"
    files = sorted(folder.glob(entry["path"]))
    assert files, f"config {config['config_name']}: {entry['path']} matches no file"
    return files


def _read_ids(files: list[Path]) -> list[str]:
    """Ids of a config's files, read with pyarrow and with polars (both must agree)."""
    by_arrow = [i for f in files for i in pq.read_table(f, columns=["id"]).column("id").to_pylist()]
    by_polars = pl.read_parquet([str(f) for f in files], columns=["id"])["id"].to_list()
    assert sorted(by_arrow) == sorted(by_polars)
    return by_arrow


def test_dry_run_card_and_configs_by_language(run_out: Path, tmp_path: Path) -> None:
    dest = publish(str(run_out), "my-org/curated-test", dry_run=str(tmp_path / "hub"), say=lambda _: None)
    card = DatasetCard.load(dest / "README.md")
    meta = card.data.to_dict()
    assert meta["license"] == "other"
    assert meta["task_categories"] == ["text-generation"]
    assert meta["size_categories"] == ["n<1K"]
    assert sorted(meta["language"]) == sorted(LANGS)
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert set(configs) == {"all", *LANGS}
    assert configs["all"]["default"] is True

    kept = _kept_ids(run_out)
    assert sorted(_read_ids(_config_files(dest, configs["all"]))) == kept
    union: list[str] = []
    for lang in LANGS:
        files = _config_files(dest, configs[lang])
        assert set(pl.read_parquet([str(f) for f in files], columns=["lang"])["lang"].to_list()) == {lang}
        union += _read_ids(files)
    assert sorted(union) == kept  # every kept row in exactly one language config

    # the body: recipe, per-step counts, token totals, the report's plots (copied, so the links resolve)
    assert "```yaml\nname: report-test" in card.text
    assert "| exact_dedup |" in card.text and "dup_of" in card.text
    assert "whitespace tokens" in card.text
    plots = [line.split("(")[1].rstrip(")") for line in card.text.splitlines() if line.startswith("![")]
    assert "report/funnel.png" in plots
    assert all((dest / p).is_file() for p in plots)
    uploaded = {p.relative_to(dest).parts[0] for p in dest.rglob("*") if p.is_file()}
    assert uploaded == {"README.md", "data", "report"}


def test_dry_run_nested_configs_language_and_quality(run_out: Path, tmp_path: Path) -> None:
    dest = publish(str(run_out), "my-org/curated-test", dry_run=str(tmp_path / "hub"),
                   config_by=["lang", "quality_bucket"], license="cc-by-4.0", say=lambda _: None)
    meta = DatasetCard.load(dest / "README.md").data.to_dict()
    assert meta["license"] == "cc-by-4.0"
    configs = {c["config_name"]: c for c in meta["configs"]}
    kept = pl.read_parquet(run_out / "data" / "*.parquet", columns=["id", "quality_bucket"])
    buckets = sorted(kept["quality_bucket"].unique().to_list())
    assert set(configs) == {"all", *LANGS, *(f"quality_bucket-{b:02d}" for b in buckets)}
    for b in buckets:
        ids = _read_ids(_config_files(dest, configs[f"quality_bucket-{b:02d}"]))
        assert sorted(ids) == sorted(kept.filter(pl.col("quality_bucket") == b)["id"].to_list())
    assert sorted(_read_ids(_config_files(dest, configs["all"]))) == _kept_ids(run_out)


def test_dry_run_without_configs_copies_the_shards(run_out: Path, tmp_path: Path) -> None:
    dest = publish(str(run_out), "my-org/curated-test", dry_run=str(tmp_path / "hub"), config_by=[], say=lambda _: None)
    meta = DatasetCard.load(dest / "README.md").data.to_dict()
    assert [c["config_name"] for c in meta["configs"]] == ["all"]
    for part in sorted((run_out / "data").glob("*.parquet")):
        assert (dest / "data" / part.name).read_bytes() == part.read_bytes()


def test_dry_run_refuses_bad_input(run_out: Path, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="ORG/NAME"):
        publish(str(run_out), "not-a-repo", dry_run=str(tmp_path / "a"))
    with pytest.raises(PublishError, match="no such column"):
        publish(str(run_out), "o/n", dry_run=str(tmp_path / "b"), config_by=["nope"])
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(PublishError, match="not an earlier dry run"):
        publish(str(run_out), "o/n", dry_run=str(busy))
    partial = tmp_path / "partial"
    (partial / "data").mkdir(parents=True)
    with pytest.raises(OutputError, match="not a finished curate run"):
        publish(str(partial), "o/n", dry_run=str(tmp_path / "c"))


def _cli(args: list[str], env_extra: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    env.update({"HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_DISABLE_TELEMETRY": "1", **env_extra})
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", CLI, *args], check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    return proc, time.monotonic() - started


def _assert_secret_nowhere(proc: subprocess.CompletedProcess, *folders: Path) -> None:
    assert SECRET not in proc.stdout and SECRET not in proc.stderr
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_network_failure_is_clear_fast_and_keeps_the_token_secret(run_out: Path, tmp_path: Path) -> None:
    proc, seconds = _cli(["publish", str(run_out), "--repo", "my-org/curated-test"],
                         {"HF_TOKEN": SECRET, "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach the Hub" in proc.stderr and "run the same command again" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert seconds < 60
    assert (run_out / "hub" / "README.md").exists()  # laid out before the upload, reused by the retry
    _assert_secret_nowhere(proc, run_out)


def test_dry_run_never_writes_or_prints_the_token(run_out: Path, tmp_path: Path) -> None:
    proc, _ = _cli(["publish", str(run_out), "--repo", "my-org/curated-test", "--dry-run", str(tmp_path / "hub")],
                   {"HF_TOKEN": SECRET}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "nothing was uploaded" in proc.stderr
    _assert_secret_nowhere(proc, tmp_path / "hub", run_out)


def test_missing_token_is_refused_before_any_work(run_out: Path, tmp_path: Path) -> None:
    proc, _ = _cli(["publish", str(run_out), "--repo", "my-org/curated-test"],
                   {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}, tmp_path)
    assert proc.returncode == 2
    assert "no Hugging Face token" in proc.stderr and "HF_TOKEN" in proc.stderr


class _RefusingHub(http.server.BaseHTTPRequestHandler):
    status = 403

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b'{"error": "You don\'t have the rights to create a dataset under this namespace"}'
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.mark.parametrize(("status", "expected"), [(403, "may not write to dataset repo my-org/curated-test"),
                                                  (401, "rejected the token")])
def test_refused_repo_gives_a_clear_error(run_out: Path, tmp_path: Path, status: int, expected: str) -> None:
    handler = type("Hub", (_RefusingHub,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc, _ = _cli(["publish", str(run_out), "--repo", "my-org/curated-test", "--private"],
                       {"HF_TOKEN": SECRET, "HF_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}"}, tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    _assert_secret_nowhere(proc, run_out)
