"""Failover lab timing: how long the 3-member Patroni lab takes to start, and one failover trial's wall time.

Targets (issue 6): lab start < 20 s, one trial (healthy cluster -> leader killed -> writes resumed -> killed
member back as a streaming replica -> rows read back) < 30 s wall. Patroni's ttl floor of 20 s is most of a
trial. Run: .venv/bin/python benchmarks/failover_timing.py [--sync] [--trials N]
The last line carries the figures: `failover_timing: lab_start_s=... trial_wall_s=... write_gap_s=...`.
"""

from __future__ import annotations

import argparse
import os
import sys

from dbc_validate.labs.patroni_cluster import PatroniCluster, SyncReplication
from dbc_validate.labs.postgres_binaries import find_pg_binaries
from dbc_validate.probes.failover_patroni import PatroniBackend
from dbc_validate.probes.failover_trials import run_trials
from dbc_validate.progress import stderr_progress


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1, help="failover trials to time (default 1)")
    parser.add_argument(
        "--sync", action="store_true", help="strict quorum synchronous replication (CNPG method any, number 1)"
    )
    args = parser.parse_args()
    sync = SyncReplication("quorum", 1, True) if args.sync else SyncReplication()
    lab = PatroniCluster(find_pg_binaries(), sync=sync, progress=stderr_progress)
    try:
        lab.start()
        run = run_trials(PatroniBackend(lab), args.trials, progress=stderr_progress)
    finally:
        lab.stop()
    load = os.getloadavg()[0]
    print(f"lab start: {lab.started_in_s:.1f} s (target < 20 s) [{sync.describe()}, load average {load:.1f}]")
    for outcome in run.trials:
        gap = outcome.figures.write_gap_s
        print(
            f"trial {outcome.log.index}: {outcome.wall_s:.1f} s wall (target < 30 s), write gap {gap:.1f} s"
            if gap is not None
            else f"trial {outcome.log.index}: no recovery"
        )
    worst = max(run.trials, key=lambda o: o.wall_s)
    gap = worst.figures.write_gap_s
    print(
        f"failover_timing: lab_start_s={lab.started_in_s:.1f} trial_wall_s={worst.wall_s:.1f} write_gap_s={gap:.1f}"
        if gap is not None
        else "failover_timing: trial did not recover"
    )
    return 0 if gap is not None else 1


if __name__ == "__main__":
    sys.exit(main())
