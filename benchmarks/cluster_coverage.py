"""Line coverage of the cluster tier from tests/cluster alone, Python subprocesses included (the Gate 1 runs
against the Kubernetes API test double are pytest subprocesses).

Runs `coverage run -m pytest tests/cluster` (extra arguments are passed to pytest, e.g. `-m "not slow"`) and
prints two figures: dbc_validate/cluster/ + targets/cluster.py + targets/kubeconfig.py (target >= 85 %) and
analysis/live/ (>= 85 %). Last line: `cluster_coverage cluster_tier=<pct> analysis_live=<pct> exit=<pytest rc>`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {
    "cluster_tier": ["dbc_validate/cluster/*", "dbc_validate/targets/cluster.py", "dbc_validate/targets/kubeconfig.py"],
    "analysis_live": ["dbc_validate/analysis/live/*"],
}


def rcfile(folder: Path) -> Path:
    path = folder / "coveragerc"
    path.write_text(
        "[run]\n"
        f"data_file = {folder / '.coverage'}\n"
        "parallel = true\n"
        "patch = subprocess\n"  # coverage >= 7.10: measure the Python processes the tests start
        f"source = {ROOT / 'dbc_validate'}\n",
        encoding="utf-8",
    )
    return path


def percent(config: Path, include: list[str]) -> tuple[float, str]:
    pattern = ",".join(str(ROOT / p) for p in include)
    done = subprocess.run(
        [sys.executable, "-m", "coverage", "report", f"--rcfile={config}", f"--include={pattern}", "--precision=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    total = next(line for line in done.stdout.splitlines() if line.startswith("TOTAL"))
    return float(total.split()[-1].rstrip("%")), done.stdout


def main(pytest_args: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        config = rcfile(Path(tmp))
        run = [sys.executable, "-m", "coverage", "run", f"--rcfile={config}", "-m", "pytest", "tests/cluster"]
        tested = subprocess.run([*run, "-q", "-p", "no:cacheprovider", *pytest_args], cwd=ROOT, check=False)
        subprocess.run([sys.executable, "-m", "coverage", "combine", f"--rcfile={config}"], cwd=ROOT, check=True)
        figures = {}
        for name, include in GROUPS.items():
            figures[name], table = percent(config, include)
            print(f"\n== {name}: {', '.join(include)}\n{table}")
    shown = " ".join(f"{name}={value:.1f}" for name, value in figures.items())
    print(f"cluster_coverage {shown} exit={tested.returncode}")
    return tested.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
