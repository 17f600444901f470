"""``curate publish`` against a local Hub (tests/publish/hub_server.py): an interrupted upload, re-run,
sends only what the repo lacks; a re-run after a complete upload sends nothing; the token stays secret.

Real ``curate publish`` command lines on a real finished run, talking HTTP to the stand-in Hub with
huggingface_hub's own client (LFS over plain HTTP: ``HF_HUB_DISABLE_XET=1``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from curate.report.html import build_report
from tests.publish.hub_server import HubServer
from tests.publish.test_publish import CLI, ROOT, SECRET
from tests.report.test_report import build_run

REPO = "my-org/curated-test"
PER_COMMIT = 5


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = build_run(tmp_path_factory.mktemp("resume"))
    build_report(out)
    return out


@pytest.fixture
def out(finished: Path, tmp_path: Path) -> Path:
    """A private copy of the finished run, so each test stages its own OUT/hub/."""
    return Path(shutil.copytree(finished, tmp_path / "out"))


@pytest.fixture
def hub(tmp_path: Path):
    with HubServer(tmp_path / "hub-server", SECRET) as server:
        yield server


def _command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", CLI, "publish", str(out), "--repo", REPO, "--files-per-commit", str(PER_COMMIT), *extra]


def _env(hub: HubServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    env.update({"HF_TOKEN": SECRET, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HOME": str(tmp_path / "hf-home")})
    return env


def _publish(out: Path, hub: HubServer, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    hub.clear_record()
    return subprocess.run(_command(out, *extra), check=False, capture_output=True, text=True, env=_env(hub, tmp_path), cwd=ROOT, timeout=120)


def _staged(out: Path) -> dict[str, bytes]:
    folder = out / "hub"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _upload_order(files: dict[str, bytes]) -> list[str]:
    """The order the files go up in: data, then the plots, the card last."""
    data = sorted(p for p in files if p.startswith("data/"))
    return data + sorted(p for p in files if not p.startswith("data/") and p != "README.md") + ["README.md"]


def _lfs_sent(hub: HubServer, files: dict[str, bytes]) -> list[str]:
    """The staged files whose bytes went up through LFS since the record was cleared."""
    by_sha = {hashlib.sha256(data).hexdigest(): path for path, data in files.items()}
    return sorted(by_sha[oid] for oid in hub.lfs_puts())


def _assert_token_only_in_authorization(hub: HubServer, procs: list[subprocess.CompletedProcess], out: Path,
                                        records: list) -> None:
    secret = SECRET.encode()
    for proc in procs:
        assert SECRET not in proc.stdout and SECRET not in proc.stderr
    for root in (out, hub.root):
        for path in root.rglob("*"):
            assert not (path.is_file() and secret in path.read_bytes()), path
    for r in records:
        assert SECRET not in r.path and secret not in r.body, (r.method, r.path)
        others = {k: v for k, v in r.headers.items() if k != "authorization"}
        assert SECRET not in repr(others), (r.method, r.path)
        if not r.path.startswith("/lfs/"):  # every Hub call is authenticated; LFS storage PUTs are not
            assert r.headers.get("authorization") == f"Bearer {SECRET}", (r.method, r.path)


@pytest.mark.parametrize("interruption", ["server error", "killed"])
def test_interrupted_upload_rerun_sends_only_what_is_missing(out: Path, hub: HubServer, tmp_path: Path,
                                                            interruption: str) -> None:
    # the 3rd commit never lands: the server answers 500, or the process is SIGKILLed while waiting for it
    if interruption == "server error":
        hub.fail_commit(3)
        first = _publish(out, hub, tmp_path)
        assert first.returncode == 2, first.stderr
        assert "HTTP 500" in first.stderr and "run the same command again" in first.stderr
        assert "Traceback" not in first.stderr
    else:
        hub.hold_commit(3)
        hub.clear_record()
        proc = subprocess.Popen(_command(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=_env(hub, tmp_path), cwd=ROOT)
        assert hub.held.wait(120), "the third commit never came"
        proc.kill()
        stdout, stderr = proc.communicate(timeout=60)
        hub.release()
        first = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        assert first.returncode == -9
    first_record = list(hub.requests)
    files = _staged(out)
    order = _upload_order(files)
    assert len(order) == 25 and sum(p.startswith("data/") for p in order) == 16  # 16 shards, 8 plots, the card
    assert set(hub.files(REPO)) == set(order[:10])  # two commits of 5 landed
    assert _lfs_sent(hub, files) == sorted(order[:15])  # the third commit's large files were stored, not committed

    second = _publish(out, hub, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "10 of 25 file(s)" in second.stderr and "uploading 15 file(s)" in second.stderr and "in 3 commit(s)" in second.stderr
    # exactly the missing files were committed, in order; the bytes of files 1-15 were not sent again:
    # 11-15 were in LFS storage already (the commit only names them), only 16-24 went up, the card inline
    assert [p for commit in hub.committed_paths() for p in commit] == order[10:]
    assert _lfs_sent(hub, files) == sorted(order[15:24])
    assert hub.inline_paths() == ["README.md"]
    put_bytes = sum(len(r.body) for r in hub.requests if r.method == "PUT")
    assert put_bytes == sum(len(files[p]) for p in order[15:24])
    assert hub.files(REPO) == files  # the repo holds exactly the staged folder, byte for byte
    _assert_token_only_in_authorization(hub, [first, second], out, first_record + hub.requests)


def test_rerun_after_a_complete_upload_sends_nothing_and_a_new_card_alone(out: Path, hub: HubServer, tmp_path: Path) -> None:
    first = _publish(out, hub, tmp_path)
    assert first.returncode == 0, first.stderr
    files = _staged(out)
    assert hub.files(REPO) == files
    assert "0 of 25 file(s)" in first.stderr and "uploading 25 file(s)" in first.stderr and "in 5 commit(s)" in first.stderr

    again = _publish(out, hub, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "all 25 file(s)" in again.stderr and "nothing to upload" in again.stderr
    calls = {(r.method, r.path.split("?")[0]) for r in hub.requests if "agent-harnesses" not in r.path}
    assert calls == {("POST", "/api/repos/create"), ("GET", f"/api/datasets/{REPO}/tree/main")}  # no content, no commit

    # another license changes only the card: the data and plots are laid out again byte for byte, and stay
    relicensed = _publish(out, hub, tmp_path, "--license", "cc-by-4.0")
    assert relicensed.returncode == 0, relicensed.stderr
    assert "24 of 25 file(s)" in relicensed.stderr and "uploading 1 file(s)" in relicensed.stderr
    assert hub.committed_paths() == [["README.md"]] and hub.lfs_puts() == []
    assert "license: cc-by-4.0" in hub.files(REPO)["README.md"].decode()
    assert hub.files(REPO) == _staged(out)


def test_token_reaches_the_hub_only_in_the_authorization_header(out: Path, hub: HubServer, tmp_path: Path) -> None:
    hub.fail_commit(1)
    failed = _publish(out, hub, tmp_path, "--files-per-commit", "100")
    assert failed.returncode == 2 and "HTTP 500" in failed.stderr
    failed_record = list(hub.requests)
    done = _publish(out, hub, tmp_path, "--files-per-commit", "100")
    assert done.returncode == 0, done.stderr
    assert hub.files(REPO) == _staged(out)
    _assert_token_only_in_authorization(hub, [failed, done], out, failed_record + hub.requests)
