"""A local stand-in for the Hugging Face Hub: the HTTP endpoints huggingface_hub calls for ``create_repo``,
``list_repo_tree`` and ``create_commit`` (what ``curate publish`` uses), over plain HTTP.

Large files go through the Git LFS batch API and a PUT, small ones inline in the commit, as on the Hub.
Xet is not spoken: run the client with ``HF_HUB_DISABLE_XET=1`` so it uses LFS. Only the ``main`` branch
of dataset repos exists.

| endpoint | answer |
|---|---|
| ``POST /api/repos/create`` | the repo's URL; 409 when it exists |
| ``GET /api/datasets/ORG/NAME/tree/main`` | every file and folder (one page, always recursive) |
| ``POST /api/datasets/ORG/NAME/preupload/main`` | per file: ``lfs`` when binary or over 10 MB, else ``regular``; the oid already committed at that path |
| ``POST /api/validate-yaml`` | no errors |
| ``POST /datasets/ORG/NAME.git/info/lfs/objects/batch`` | an upload URL per object not stored yet, no action for the others |
| ``PUT /lfs/OID`` | stores the object after checking its sha256 (no token needed, like a signed URL) |
| ``POST /api/datasets/ORG/NAME/commit/main`` | applies the ndjson commit (``file`` base64 lines, ``lfsFile`` lines) |

Every other ``/api`` call needs ``Authorization: Bearer TOKEN``. Committed files are written under
``root/repos/ORG/NAME/``, LFS objects under ``root/lfs/``. Every request is recorded (method, path, headers,
body). ``fail_commit(n)`` answers the n-th commit with HTTP 500, ``hold_commit(n)`` keeps the n-th commit
waiting (``held`` is set) until ``release()``, so a test can kill the client; neither commit is applied.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

LFS_THRESHOLD = 10 * 1024 * 1024
_REPO = r"(?P<repo>[^/]+/[^/]+)"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Entry:
    """A committed file: its size, git blob id and (large files) LFS sha256."""

    size: int
    blob_id: str
    sha256: str | None


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


class HubServer:
    """The server, its stored repos and the record of requests; start with ``with HubServer(...) as hub``."""

    def __init__(self, root: Path, token: str) -> None:
        self.root, self.token = Path(root), token
        self.repos: dict[str, dict[str, Entry]] = {}  # repo id -> path -> committed file
        self.lfs: dict[str, int] = {}  # sha256 -> size of stored LFS objects
        self.requests: list[Request] = []
        self.commits_seen = 0
        self._fail_at = self._hold_at = 0
        self.held, self._release = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._http.shutdown()
        self._http.server_close()

    # --- what tests set and read ---------------------------------------------------------------------------

    def fail_commit(self, n: int) -> None:
        """Answer the n-th commit request (counted from now) with HTTP 500."""
        self._fail_at, self._hold_at = self.commits_seen + n, 0

    def hold_commit(self, n: int) -> None:
        """Keep the n-th commit request (counted from now) waiting until ``release()``; sets ``held``."""
        self._hold_at, self._fail_at = self.commits_seen + n, 0
        self.held.clear()
        self._release.clear()

    def release(self) -> None:
        """Let a held commit go: it is answered with HTTP 500 and not applied."""
        self._release.set()

    def clear_record(self) -> None:
        self.requests.clear()

    def files(self, repo_id: str) -> dict[str, bytes]:
        """The repo's committed files, read back from disk."""
        folder = self.root / "repos" / repo_id
        return {path: (folder / path).read_bytes() for path in self.repos.get(repo_id, {})}

    def lfs_puts(self) -> list[str]:
        """sha256 of every LFS object received (PUT) since the record was cleared."""
        return [r.path.rsplit("/", 1)[1] for r in self.requests if r.method == "PUT"]

    def committed_paths(self) -> list[list[str]]:
        """Paths of each commit request received since the record was cleared (applied or not)."""
        return [[json.loads(line)["value"]["path"] for line in r.body.splitlines()[1:]]
                for r in self.requests if r.method == "POST" and "/commit/" in r.path]

    def inline_paths(self) -> list[str]:
        """Paths whose content was sent inline in a commit (small files) since the record was cleared."""
        return [item["value"]["path"] for r in self.requests if r.method == "POST" and "/commit/" in r.path
                for item in map(json.loads, r.body.splitlines()) if item["key"] == "file"]

    # --- the endpoints -------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: bytes, authorized: bool) -> tuple[int, object]:
        routes = [
            ("POST", r"/api/repos/create", self._create),
            ("GET", rf"/api/datasets/{_REPO}/tree/main(/.*)?", self._tree),
            ("POST", rf"/api/datasets/{_REPO}/preupload/main", self._preupload),
            ("POST", r"/api/validate-yaml", lambda m, b: (200, {"errors": [], "warnings": []})),
            ("POST", rf"/datasets/{_REPO}\.git/info/lfs/objects/batch", self._lfs_batch),
            ("PUT", r"/lfs/(?P<oid>[0-9a-f]{64})", self._lfs_put),
            ("POST", rf"/api/datasets/{_REPO}/commit/main", self._commit),
        ]
        for verb, pattern, answer in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                if not path.startswith("/lfs/") and not authorized:
                    return 401, {"error": "Invalid credentials in Authorization header"}
                return answer(match, body)
        return 404, {"error": f"no route {method} {path}"}

    def _create(self, _: re.Match, body: bytes) -> tuple[int, object]:
        payload = json.loads(body)
        repo = f"{payload['organization']}/{payload['name']}"
        with self._lock:
            if repo in self.repos:
                return 409, {"error": "You already created this dataset repo", "url": f"{self.url}/datasets/{repo}"}
            self.repos[repo] = {}
        return 200, {"url": f"{self.url}/datasets/{repo}"}

    def _tree(self, m: re.Match, _: bytes) -> tuple[int, object]:
        if m["repo"] not in self.repos:
            return 404, {"error": "Repository not found"}
        entries, folders = [], set()
        for path, e in sorted(self.repos[m["repo"]].items()):
            folders.update("/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 1))
            lfs = {"oid": e.sha256, "size": e.size, "pointerSize": len(_lfs_pointer(e.sha256, e.size))} if e.sha256 else None
            entries.append({"type": "file", "path": path, "size": e.size, "oid": e.blob_id, **({"lfs": lfs} if lfs else {})})
        return 200, [{"type": "directory", "path": f, "size": 0, "oid": "0" * 40} for f in sorted(folders)] + entries

    def _preupload(self, m: re.Match, body: bytes) -> tuple[int, object]:
        committed = self.repos.get(m["repo"], {})
        answer = []
        for f in json.loads(body)["files"]:
            sample = base64.b64decode(f["sample"])
            lfs = f["size"] > LFS_THRESHOLD or b"\0" in sample or not _is_utf8(sample)
            e = committed.get(f["path"])
            oid = None if e is None else (e.sha256 if e.sha256 else e.blob_id)
            answer.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid})
        return 200, {"files": answer}

    def _lfs_batch(self, _: re.Match, body: bytes) -> tuple[int, object]:
        objects = []
        for o in json.loads(body)["objects"]:
            stored = self.lfs.get(o["oid"]) == o["size"]
            actions = {} if stored else {"actions": {"upload": {"href": f"{self.url}/lfs/{o['oid']}"}}}
            objects.append({"oid": o["oid"], "size": o["size"], **actions})
        return 200, {"transfer": "basic", "objects": objects}

    def _lfs_put(self, m: re.Match, body: bytes) -> tuple[int, object]:
        if hashlib.sha256(body).hexdigest() != m["oid"]:
            return 400, {"error": "content does not match the oid"}
        (self.root / "lfs").mkdir(parents=True, exist_ok=True)
        (self.root / "lfs" / m["oid"]).write_bytes(body)
        with self._lock:
            self.lfs[m["oid"]] = len(body)
        return 200, {}

    def _commit(self, m: re.Match, body: bytes) -> tuple[int, object]:
        with self._lock:
            self.commits_seen += 1
            n = self.commits_seen
        if n == self._hold_at:
            self.held.set()
            self._release.wait()
            return 500, {"error": "the server stopped"}
        if n == self._fail_at:
            return 500, {"error": "Internal Error - We're working hard to fix this as soon as possible!"}
        repo = m["repo"]
        if repo not in self.repos:
            return 404, {"error": "Repository not found"}
        items = [json.loads(line) for line in body.splitlines()]
        if items[0]["key"] != "header":
            return 400, {"error": "the first line must be the header"}
        staged: dict[str, tuple[bytes, Entry]] = {}
        for item in items[1:]:
            v = item["value"]
            if item["key"] == "file":
                data = base64.b64decode(v["content"])
                staged[v["path"]] = (data, Entry(len(data), git_blob_id(data), None))
            elif item["key"] == "lfsFile":
                if self.lfs.get(v["oid"]) is None:
                    return 422, {"error": f"{v['path']}: LFS object {v['oid']} was never uploaded"}
                data = (self.root / "lfs" / v["oid"]).read_bytes()
                staged[v["path"]] = (data, Entry(len(data), git_blob_id(_lfs_pointer(v["oid"], len(data))), v["oid"]))
            else:
                return 400, {"error": f"unsupported commit line {item['key']}"}
        folder = self.root / "repos" / repo
        with self._lock:
            for path, (data, entry) in staged.items():
                (folder / path).parent.mkdir(parents=True, exist_ok=True)
                (folder / path).write_bytes(data)
                self.repos[repo][path] = entry
        oid = hashlib.sha1(body).hexdigest()
        return 200, {"commitUrl": f"{self.url}/datasets/{repo}/commit/{oid}", "commitOid": oid, "pullRequestUrl": None}


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(data) - 4  # a sample may end inside a character
    return True


def _handler(hub: HubServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self._body()
            path = urlsplit(self.path).path
            hub.requests.append(Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, payload = hub.handle(self.command, path, body, self.headers.get("Authorization") == f"Bearer {hub.token}")
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client was killed while a commit was held
                pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()  # the blank line after the last chunk
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    return Handler
