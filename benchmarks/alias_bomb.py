"""Cost of refusing a YAML alias bomb: wall time and peak memory of `dbc-validate analyze` on a 10-level
"billion laughs" file (target: refused in under 2 s and 200 MB, interpreter start-up included).

Run from the repository root: `python benchmarks/alias_bomb.py [--runs N]`. Prints each run and a last line
`alias_bomb median_s=<s> peak_mib=<MiB> runs=<n>` (peak: the largest resident set of any run's process).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LEVELS = 10


def bomb_text(levels: int) -> str:
    """Each level is nine aliases of the level before: 9**levels leaves from a few hundred bytes."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "data:", '  l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        lines.append(f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def one_run(bomb: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from dbc_validate.cli import main; sys.exit(main())", "analyze", str(bomb)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 2:
        sys.exit(f"expected exit 2 (refused), got {done.returncode}:\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bomb = Path(folder) / "bomb.yaml"
        bomb.write_text(bomb_text(LEVELS), encoding="utf-8")
        times = []
        for index in range(args.runs):
            times.append(one_run(bomb))
            print(f"run {index + 1}: {times[-1]:.2f} s ({len(bomb.read_bytes())} bytes, {LEVELS} levels)")
    # ru_maxrss of waited-for children is in KiB on Linux.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"alias_bomb median_s={statistics.median(times):.2f} peak_mib={peak_mib:.0f} runs={args.runs}")


if __name__ == "__main__":
    main()
