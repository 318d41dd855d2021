"""Run locks: one process at a time trains a run, whichever campaign, executor or host started it.

A run's lock is ``<checkpoints>/locks/<trajectory hash>.lock``, beside the checkpoints it protects (two
campaigns on the same run share its checkpoints, so the lock lives with them, not with the records). Holding
it is holding an exclusive ``flock`` on that file: the kernel (or, on a cluster's shared file system, its lock
manager) releases it when the owner exits for any reason, so a lock can never outlive its process. The file
also says who holds it, as JSON: pid, host, SLURM job id (when under SLURM), when it was taken; and
``released: true`` once the owner let go.

- A free file whose owner never wrote ``released`` belonged to a process that died holding the run (killed,
  out of memory, a preempted job): the lock is *stale*, and the next process takes it over and says so.
- A held lock is refused at once (``RunLocked``, naming the owner); a campaign skips that run.

Files are never deleted (deleting a lock file while another process has it open lets two processes lock two
different files under one name).
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import pathlib
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

__all__ = ["LockOwner", "RunLocked", "lock_path", "owner_of", "run_lock"]


@dataclass(frozen=True)
class LockOwner:
    """Who holds (or last held) a run's lock."""

    pid: int
    host: str
    started: str  # ISO 8601, UTC
    slurm_job: str | None = None
    released: bool = False

    def describe(self) -> str:
        job = f", SLURM job {self.slurm_job}" if self.slurm_job else ""
        return f"pid {self.pid} on {self.host}{job} since {self.started}"


class RunLocked(RuntimeError):
    """Another live process holds the run's lock."""

    def __init__(self, path: pathlib.Path, owner: LockOwner | None):
        self.path, self.owner = path, owner
        who = owner.describe() if owner is not None else "a process that has not yet written its name"
        super().__init__(f"{path} is held by {who}: that process is training this run.")


def lock_path(checkpoints, trajectory_hash: str) -> pathlib.Path:
    """``<checkpoints>/locks/<trajectory_hash>.lock``."""
    return pathlib.Path(checkpoints) / "locks" / f"{trajectory_hash}.lock"


def owner_of(path) -> LockOwner | None:
    """The owner a lock file names (None: empty, unreadable or never written)."""
    try:
        data = json.loads(pathlib.Path(path).read_text() or "null")
        return LockOwner(**data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def _me() -> LockOwner:
    started = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    return LockOwner(pid=os.getpid(), host=socket.gethostname(), started=started,
                     slurm_job=os.environ.get("SLURM_JOB_ID"))  # fmt: skip


def _write(fd: int, owner: LockOwner) -> None:
    body = json.dumps(asdict(owner)).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, body, 0)
    os.fsync(fd)


@contextmanager
def run_lock(path, *, log: Callable[[str], None] = print) -> Iterator[LockOwner]:
    """Hold the lock at ``path`` for the ``with`` block; yields this process's ``LockOwner``.

    Raises:
        RunLocked: another live process holds it (nothing is waited for).
        OSError: the file system cannot lock (e.g. an NFS mount without a lock manager), with what to do.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(path, owner_of(path)) from None
        except OSError as err:
            if err.errno in (errno.ENOLCK, errno.EOPNOTSUPP):
                message = (f"{path}: this file system cannot lock files ({err.strerror}); put the checkpoints "
                           "(--checkpoints, $LOSSNAV_CHECKPOINTS) on one that can")  # fmt: skip
                raise OSError(err.errno, message) from None
            raise
        before = owner_of(path)
        if before is not None and not before.released:
            log(f"{path}: took over a stale lock of {before.describe()} (it stopped without releasing it).")
        me = _me()
        _write(fd, me)
        try:
            yield me
        finally:
            _write(fd, LockOwner(**{**asdict(me), "released": True}))
    finally:
        os.close(fd)  # closing the descriptor releases the flock
