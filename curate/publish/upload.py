"""Upload a staged folder to a Hub dataset repo so that a re-run sends only what the repo lacks.

One ``upload_folder`` call resumes differently with each huggingface_hub version and transport (on plain
HTTP it is a single commit: a failure loses it all). The plan here is explicit and the same everywhere:

1. create the repo (and the branch) if missing;
2. list the files already there (one paginated tree listing: path, size, git blob id, LFS sha256);
3. a staged file is already there when the repo has the same path with the same size and content: the LFS
   sha256 for large files, the git blob id for small ones; a file is hashed only when the sizes match;
4. the rest goes up in commits of at most ``files_per_commit`` files, data first and the card last (the card
   never lists files that are not there yet). A commit is atomic: after a failure or a kill every earlier
   commit stays, and the large files uploaded for the commit that did not land stay in the Hub's LFS/Xet
   storage, which the next run asks about before sending them, so they are not sent again.

Memory: the list of staged files (path, size) and one 1 MiB read buffer for hashing.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from curate.core.errors import CurateError

if TYPE_CHECKING:
    from huggingface_hub import RepoFile

_CHUNK = 1 << 20


class PublishError(CurateError):
    """Publishing cannot go on: no token, no access to the repo, or the Hub cannot be reached."""


@dataclass(frozen=True)
class StagedFile:
    """One file of the staged folder: where it goes in the repo, where it is here, and its size."""

    path: str
    local: Path
    size: int


def staged_files(folder: Path) -> list[StagedFile]:
    """The folder's files in upload order: data first, then the rest, README.md (the card) last.

    Hidden entries (``.cache/`` of older huggingface_hub uploads, ``.git``) are never uploaded.
    """
    files = [StagedFile(p.relative_to(folder).as_posix(), p, p.stat().st_size)
             for p in sorted(folder.rglob("*")) if p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(files, key=lambda f: (f.path == "README.md", not f.path.startswith("data/"), f.path))


def _content_ids(path: Path, size: int) -> tuple[str, str]:
    """(sha256, git blob sha1) of a file in one read: the ids the Hub gives LFS and small files."""
    sha256, blob = hashlib.sha256(), hashlib.sha1(f"blob {size}\0".encode())
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha256.update(chunk)
            blob.update(chunk)
    return sha256.hexdigest(), blob.hexdigest()


def _already_there(f: StagedFile, remote: RepoFile | None) -> bool:
    """Whether the repo holds ``f`` with the same content (``remote``: the repo's file at that path)."""
    if remote is None or remote.size != f.size:
        return False
    sha256, blob = _content_ids(f.local, f.size)
    return remote.lfs.sha256 == sha256 if remote.lfs else remote.blob_id == blob


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n:.1f} TB"


def upload(folder: Path, repo_id: str, token: str, *, private: bool, revision: str | None, message: str,
           files_per_commit: int = 100, say=print) -> str:
    """Create the dataset repo (if needed) and commit the staged files it lacks; returns the repo's URL."""
    from huggingface_hub import CommitOperationAdd, HfApi, RepoFile
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token, library_name="curate", library_version=version("curate"))
    try:
        url = str(api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True))
        if revision:
            api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
        listing = api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True)
        remote = {e.path: e for e in listing if isinstance(e, RepoFile)}
        files = staged_files(folder)
        todo = [f for f in files if not _already_there(f, remote.get(f.path))]
        total, sending = sum(f.size for f in files), sum(f.size for f in todo)
        there = len(files) - len(todo)
        if not todo:
            say(f"{repo_id}: all {len(files)} file(s) ({_size(total)}) are already there with the same content; "
                "nothing to upload")
            return url
        commits = -(-len(todo) // files_per_commit)
        say(f"{repo_id}: {there} of {len(files)} file(s) ({_size(total - sending)} of {_size(total)}) already there "
            f"with the same content; uploading {len(todo)} file(s) ({_size(sending)}) in {commits} commit(s)")
        sent = 0
        for i in range(commits):
            batch = todo[i * files_per_commit:(i + 1) * files_per_commit]
            api.create_commit(repo_id, [CommitOperationAdd(f.path, f.local) for f in batch], repo_type="dataset",
                              revision=revision, commit_message=message if commits == 1 else f"{message} ({i + 1}/{commits})")
            sent += sum(f.size for f in batch)
            say(f"{repo_id}: commit {i + 1}/{commits} landed; {i * files_per_commit + len(batch)} of {len(todo)} "
                f"file(s) ({_size(sent)} of {_size(sending)}) are now there")
    except HfHubHTTPError as exc:
        raise _http_error(exc, repo_id, token) from None
    except _network_errors() as exc:
        from huggingface_hub import constants

        raise PublishError(_redact(
            f"cannot reach the Hub at {constants.ENDPOINT} ({type(exc).__name__}: {exc}); check the network "
            "(or HF_ENDPOINT) and run the same command again: it uploads only what is not there yet", token)) from None
    return url


# --- errors ------------------------------------------------------------------------------------------------


def _network_errors() -> tuple[type[BaseException], ...]:
    """Transport-level failures of whichever HTTP client this huggingface_hub uses."""
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module in ("httpx", "httpx2"):
        try:
            kinds.append(importlib.import_module(module).TransportError)
        except (ImportError, AttributeError):
            pass
    try:
        import requests

        kinds += [requests.ConnectionError, requests.Timeout]
    except ImportError:
        pass
    return tuple(kinds)


def _redact(text: str, token: str | None) -> str:
    return text.replace(token, "<token>") if token else text


def _http_error(exc: Exception, repo_id: str, token: str) -> PublishError:
    from huggingface_hub.errors import RepositoryNotFoundError

    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status == 401:
        msg = ("the Hub rejected the token (HTTP 401: invalid or expired); log in again with `hf auth login` "
               "or set HF_TOKEN to a valid write token")
    elif status == 403:
        msg = (f"the token may not write to dataset repo {repo_id} (HTTP 403); use a token with write access "
               f"to {repo_id.split('/')[0]}, or another --repo")
    elif isinstance(exc, RepositoryNotFoundError) or status == 404:
        msg = (f"dataset repo {repo_id} was not found and could not be created (HTTP 404); check the name, "
               f"and that your token may create repos under {repo_id.split('/')[0]}")
    else:
        server = getattr(exc, "server_message", None) or str(exc).splitlines()[0]
        msg = (f"the Hub refused the upload to {repo_id} (HTTP {status}): {server}; run the same command again: "
               "it uploads only what is not there yet")
    return PublishError(_redact(msg, token))
