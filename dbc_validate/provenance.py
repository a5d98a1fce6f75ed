"""Where the judged manifests came from: the git commit of their checkout and whether it had edits."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitState:
    sha: str | None
    dirty: bool | None


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(path: Path) -> GitState:
    """Commit of the checkout holding `path` and whether `path` has uncommitted changes (None: not in git)."""
    folder = path if path.is_dir() else path.parent
    if not folder.exists():
        return GitState(None, None)
    sha = _git(["rev-parse", "HEAD"], folder)
    if sha is None:
        return GitState(None, None)
    status = _git(["status", "--porcelain", "--", str(path)], folder)
    return GitState(sha.strip(), None if status is None else bool(status.strip()))
