"""Lab child processes: each in its own process group, always stopped (on exit, Ctrl-C, SIGTERM or crash).

PostgreSQL refuses to run as root, and CI runs as root: `unprivileged_prefix` wraps commands in a user
namespace where the process is an ordinary uid while files still belong to the real user, so cleanup
needs no chown and every path stays readable.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dbc_validate.errors import MissingBinary

_NAMESPACE_UID = 1000
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Children get SIGKILL if the harness itself is killed with SIGKILL: nothing can outlive it.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@functools.cache
def unprivileged_prefix() -> tuple[str, ...]:
    """Argv prefix that runs a command as a non-root uid (empty when we are not root)."""
    if os.geteuid() != 0:
        return ()
    unshare = shutil.which("unshare")
    fix = (
        "run the harness as a non-root user, or allow user namespaces "
        "(util-linux `unshare`, sysctl kernel.unprivileged_userns_clone=1)"
    )
    if unshare is None:
        raise MissingBinary("running as root and `unshare` is missing: PostgreSQL refuses to run as root", fix)
    prefix = (unshare, "--user", f"--map-user={_NAMESPACE_UID}", f"--map-group={_NAMESPACE_UID}", "--")
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        raise MissingBinary(f"running as root and cannot enter a user namespace: {probe.stderr.strip()}", fix)
    return prefix


def free_ports(count: int = 1, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct TCP ports free right now (held together so they cannot collide with each other)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_port(
    port: int, host: str = "127.0.0.1", timeout_s: float = 30.0, alive: Callable[[], bool] | None = None
) -> bool:
    """True once something accepts connections on host:port; False on timeout or when `alive()` says no."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.1)
    return False


class LabProcess:
    """One child process (and its process group) with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        unprivileged: bool = False,
    ) -> None:
        self.name = name
        self.argv = [*(unprivileged_prefix() if unprivileged else ()), *argv]
        self.log_path = log_path
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LabProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        _LIVE.add(self)
        return self

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def _signal_group(self, sig: int) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group at once, like a pod being deleted with grace period 0."""
        self._signal_group(signal.SIGKILL)
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=10)
        _LIVE.discard(self)

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM the group, then SIGKILL whatever is left after `timeout_s`."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=timeout_s)
        self.kill()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


_LIVE: set[LabProcess] = set()
_CLEANUPS: list[Callable[[], None]] = []


def register_cleanup(action: Callable[[], None]) -> Callable[[], None]:
    """Run `action` at interpreter exit unless it was run (and unregistered) before."""
    _CLEANUPS.append(action)
    return action


def unregister_cleanup(action: Callable[[], None]) -> None:
    with contextlib.suppress(ValueError):
        _CLEANUPS.remove(action)


@atexit.register
def _stop_everything() -> None:
    for process in list(_LIVE):
        process.kill()
    while _CLEANUPS:
        with contextlib.suppress(Exception):
            _CLEANUPS.pop()()


OWNER_FILE = ".dbc-owner"  # "<pid> <process start time>" of the harness process that made the folder


def process_identity(pid: int) -> str | None:
    """ "pid starttime" of a live process (the start time tells a reused pid apart), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else f"{pid} {fields[19]}"


def abandoned(owner: str | None, identity: Callable[[int], str | None] = process_identity) -> bool:
    """True when the folder's owner record names a process that no longer runs (pure given `identity`)."""
    if not owner:
        return False  # no record: not ours to judge
    pid_text = owner.split()[0]
    return pid_text.isdigit() and identity(int(pid_text)) != owner.strip()


def sweep_abandoned_lab_directories(root: Path | None = None) -> list[Path]:
    """Remove lab folders left by a harness that was killed with SIGKILL (atexit never ran for it)."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob("dbc-*"):
        try:
            owner = (folder / OWNER_FILE).read_text()
        except OSError:
            continue
        if abandoned(owner):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


_swept = False


def lab_directory(prefix: str) -> Path:
    """A fresh temporary folder for one lab; removed by `remove_directory` or at exit (or, after a SIGKILL,
    by the next run's sweep)."""
    global _swept
    if not _swept:
        _swept = True
        sweep_abandoned_lab_directories()
    path = Path(tempfile.mkdtemp(prefix=f"dbc-{prefix}-"))
    (path / OWNER_FILE).write_text(process_identity(os.getpid()) or "")
    register_cleanup(functools.partial(shutil.rmtree, path, ignore_errors=True))
    return path


def remove_directory(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
