"""One writer per output folder: a lock file with its owner and a heartbeat, taken over when the owner died.

A cluster scheduler that retries a job while the first attempt still runs would otherwise have two runs
write one output. The lock is ``OUT/.lock``: a JSON record of the owner (host, pid, a random token, the
command) and a heartbeat time that a background thread refreshes every ``heartbeat_s`` seconds. A second
run is refused with who holds the lock. A lock is stale, and taken over, when its owner's process is gone
(same host) or its heartbeat is older than ``stale_after_s`` (any host: a lost node stops beating).

Taking and taking over are atomic on local and network file systems without ``flock``: a new lock is
written whole to a temporary file and hard-linked into place (``link`` fails if the name exists; an
exclusive create where the file system has no hard links), and a
stale one is first renamed away under a unique name (only one contender's rename succeeds). The heartbeat
thread also notices when its lock was taken over (this process stalled past ``stale_after_s``); the run
then stops at the next :meth:`RunLock.check` instead of writing beside the new owner.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from curate.core.errors import OutputError
from curate.io.shards import read_record

LOCK_NAME = ".lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _place(tmp: Path, path: Path) -> None:
    """Put the whole file ``tmp`` at ``path`` unless something is there (FileExistsError): a hard link, or on
    file systems without them (some object-store mounts) an exclusive create."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(tmp.read_bytes())


class RunLock:
    """The lock of one output folder; use as a context manager around the work that writes there."""

    def __init__(self, folder: Path, what: str, heartbeat_s: float = 10.0, stale_after_s: float = 120.0) -> None:
        self.path = Path(folder) / LOCK_NAME
        self.what = what
        self.heartbeat_s, self.stale_after_s = heartbeat_s, stale_after_s
        self.token = uuid.uuid4().hex
        self.host = socket.gethostname()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost_to: dict | None = None

    def _record(self) -> dict:
        now = time.time()
        return {"host": self.host, "pid": os.getpid(), "token": self.token, "what": self.what,
                "started": getattr(self, "_started", now), "heartbeat": now}

    def _write(self, target: Path) -> None:
        target.write_text(json.dumps(self._record(), indent=2) + "\n", encoding="utf-8")

    def stale_reason(self, holder: dict) -> str | None:
        """Why a lock record may be taken over, or None while its owner lives."""
        if not holder:
            return "the lock file is unreadable"
        if holder.get("host") == self.host and not _alive(int(holder.get("pid", -1))):
            return f"its owner (pid {holder.get('pid')}) is gone"
        age = time.time() - float(holder.get("heartbeat", 0))
        if age > self.stale_after_s:
            return f"its heartbeat is {age:.0f}s old (stale after {self.stale_after_s:.0f}s)"
        return None

    def acquire(self) -> RunLock:
        self._made_folder = not self.path.parent.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._started = time.time()
        tmp = self.path.with_name(f"{LOCK_NAME}.{self.token}.new")
        self._write(tmp)
        try:
            for _ in range(10):
                try:
                    _place(tmp, self.path)
                    break
                except FileExistsError:
                    pass
                holder = read_record(self.path)
                if holder.get("token") == self.token:
                    break
                if self.stale_reason(holder) is None:
                    age = time.time() - float(holder.get("heartbeat", 0))
                    raise OutputError(
                        f"{self.path.parent} is in use by another run: {holder.get('what', '?')} (pid {holder.get('pid')} "
                        f"on {holder.get('host')}, last heartbeat {age:.0f}s ago). Wait for it to finish or stop it; "
                        f"a lock whose owner died is taken over after {self.stale_after_s:.0f}s without heartbeat"
                    )
                self._take_over(holder)
            else:
                raise OutputError(f"{self.path}: could not take the lock (other runs kept taking it); try again")
        finally:
            tmp.unlink(missing_ok=True)
        self._thread = threading.Thread(target=self._beat, name="curate-lock-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _take_over(self, holder: dict) -> None:
        """Move a stale lock out of the way; if another contender replaced it meanwhile, put theirs back."""
        aside = self.path.with_name(f"{LOCK_NAME}.{self.token}.stale")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:  # someone else moved it first
            return
        moved = read_record(aside)
        if moved.get("token") != holder.get("token") and self.stale_reason(moved) is None:
            try:
                _place(aside, self.path)  # a fresh lock we moved by mistake goes back, unless a newer one is there
            except FileExistsError:
                pass
        aside.unlink(missing_ok=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            holder = read_record(self.path)
            if holder.get("token") != self.token:
                self.lost_to = holder
                return
            tmp = self.path.with_name(f"{LOCK_NAME}.{self.token}.beat")
            try:
                self._write(tmp)
                os.replace(tmp, self.path)
            except OSError:  # a full disk must not kill the heartbeat; the next beat tries again
                tmp.unlink(missing_ok=True)

    def check(self) -> None:
        """Raise if another run took this lock over (this process stalled past the stale limit)."""
        if self.lost_to is not None:
            h = self.lost_to
            raise OutputError(
                f"{self.path.parent}: the lock was taken over by {h.get('what', '?')} (pid {h.get('pid')} on "
                f"{h.get('host')}) while this run stalled; stopping so that two runs never write one output"
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if read_record(self.path).get("token") == self.token:
            self.path.unlink(missing_ok=True)
        if getattr(self, "_made_folder", False):  # a run refused before work leaves no empty output folder
            try:
                self.path.parent.rmdir()
            except OSError:
                pass

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
