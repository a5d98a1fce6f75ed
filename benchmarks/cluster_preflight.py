"""How fast `pytest suites/gate1 --target kind` gives up on a machine without Docker or kind.

Runs the real command with a PATH that holds only this Python (so no docker, podman, kind or k3d is found,
whatever the machine has) and times: the whole process, pytest's session (plugin start-up included), and the
harness's own preflight. Last line: `cluster_preflight wall_s=<s> session_s=<s> preflight_s=<s> exit=<code>`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from dbc_validate.settings import Settings
    from dbc_validate.targets.kind import KindTarget

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "python").symlink_to(sys.executable)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBC_")}
        env["PATH"] = tmp
        command = [sys.executable, "-m", "pytest", "suites/gate1", "--target", "kind", "-p", "no:cacheprovider"]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        # The same without the two heaviest third-party pytest plugins, to show what is pytest's start-up.
        lean = subprocess.run(
            [*command, "-p", "no:hypothesispytest", "-p", "no:locust"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    session = re.search(r"in ([0-9.]+)s", done.stdout)
    lean_session = re.search(r"in ([0-9.]+)s", lean.stdout)
    lean_s = lean_session.group(1) if lean_session else "n/a"
    print(f"session without the hypothesis and locust pytest plugins: {lean_s} s")
    line = next((x for x in done.stdout.splitlines() if "needs" in x and "dbc_validate:" in x), "(no message)")
    print(f"message: {line.strip('! ').strip()}")
    # The harness's own share: the preflight of the kind target, in process.
    os.environ["PATH"] = ""
    target = KindTarget(Settings(root=ROOT, target="kind"), lambda m: None)
    start = time.perf_counter()
    try:
        target.preflight()
    except Exception as exc:  # the point is that it raises
        print(f"preflight raised {type(exc).__name__}")
    preflight = time.perf_counter() - start
    print(
        f"cluster_preflight wall_s={wall:.2f} session_s={session.group(1) if session else 'n/a'} "
        f"preflight_s={preflight:.4f} exit={done.returncode}"
    )


if __name__ == "__main__":
    main()
