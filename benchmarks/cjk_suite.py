"""How long the CJK suite takes against a running database (target: under 10 s).

Starts a local PostgreSQL with the known-bad discourse database (configuration on the stock parser: the
only kind this machine can build, pg_cjk_parser is not installed here), then times:
- the whole suite in a fresh pytest process with --postgres-dsn (startup and report writing included),
- each test's own duration (from gate1.json),
- the Hypothesis property test (60 examples, plainto + phraseto), run directly against the database
  because the suite skips that test where the extension is missing.
Usage: .venv/bin/python benchmarks/cjk_suite.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from hypothesis import HealthCheck, given, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cjk"))

from cjk_support import BOOTSTRAP_SQL, FIXTURES, SUITE, write_manifest_set  # noqa: E402

from dbc_validate.analysis.cjk_samples import SearchCase, search_cases  # noqa: E402
from dbc_validate.labs.postgres_binaries import find_pg_binaries  # noqa: E402
from dbc_validate.labs.postgres_server import start_postgres_lab  # noqa: E402
from dbc_validate.manifests.sql_statements import split_statements  # noqa: E402
from dbc_validate.probes.cjk_search import search  # noqa: E402
from dbc_validate.progress import stderr_progress  # noqa: E402

PROPERTY_EXAMPLES = 60  # as in suites/gate1/test_cjk_parser.py


def time_suite(dsn: str, manifests: Path, out: Path) -> tuple[float, dict[str, float]]:
    report = out / "gate1.html"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE), "--target", "local", "--postgres-dsn", dsn, "--manifests",
         str(manifests), "--gate1-report", str(report), "-p", "no:cacheprovider", "-q"],
        cwd=out, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    tests = json.loads(report.with_suffix(".json").read_text())["measurements"]["tests"]
    return wall, {nodeid.rsplit("::", 1)[1]: t["duration_s"] for nodeid, t in tests.items()}


def time_property_test(conn: psycopg.Connection) -> tuple[float, float]:
    """(whole run, database part) of the property test's work, as it runs where the extension is installed."""
    elapsed = 0.0

    @settings(max_examples=PROPERTY_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=search_cases())
    def run(case: SearchCase) -> None:
        nonlocal elapsed
        pairs = [(case.document, query) for query, _ in case.queries]
        started = time.perf_counter()
        search(conn, pairs)
        search(conn, pairs, phrase=True)
        elapsed += time.perf_counter() - started

    started = time.perf_counter()
    run()
    return time.perf_counter() - started, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    lab = start_postgres_lab(find_pg_binaries(), stderr_progress)
    lab_start = time.perf_counter() - started
    try:
        lab.create_database("discourse")
        for statement in split_statements((FIXTURES / "stock-parser-discourse.sql").read_text(encoding="utf-8")):
            lab.execute(statement.text, database="discourse")
        dsn = lab.dsn("discourse")
        with tempfile.TemporaryDirectory(prefix="dbc-cjk-bench-") as tmp:
            manifests = write_manifest_set(Path(tmp) / "manifests", BOOTSTRAP_SQL.read_text(encoding="utf-8"))
            runs = [time_suite(dsn, manifests, Path(tmp)) for _ in range(args.runs)]
        with psycopg.connect(dsn, autocommit=True) as conn:
            property_s, property_db_s = time_property_test(conn)
    finally:
        lab.stop()
    walls = [wall for wall, _ in runs]
    per_test = {name: statistics.median(r[1][name] for r in runs) for name in runs[0][1]}
    tests_total = sum(per_test.values())
    print(f"lab start (initdb + server ready): {lab_start:.2f} s (not part of the suite's budget)")
    for name, seconds in per_test.items():
        print(f"  {seconds:6.3f} s  {name}")
    print(f"tests' own time (median of {args.runs}): {tests_total:.2f} s")
    print(
        f"property test, {PROPERTY_EXAMPLES} examples x (plainto + phraseto): {property_s:.2f} s "
        f"(database {property_db_s:.2f} s, the rest is Hypothesis generating cases)"
    )
    print(f"pytest process wall time: median {statistics.median(walls):.2f} s, max {max(walls):.2f} s")
    estimate = statistics.median(walls) + property_s
    print(
        f"cjk suite: {estimate:.2f} s against a running database, property test included "
        f"(target < 10 s: {'met' if estimate < 10 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
