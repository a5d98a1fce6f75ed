"""The local failover capability: the Patroni lab as a failover backend, started for the local target."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from importlib.metadata import version
from typing import TYPE_CHECKING

from dbc_validate.analysis.cnpg_topology import DeclaredDurability, durability_of_set
from dbc_validate.analysis.failover_log import TopologyEvent
from dbc_validate.labs.patroni_cluster import LabError, PatroniCluster, PatroniTiming, SyncReplication
from dbc_validate.labs.postgres_binaries import find_pg_binaries
from dbc_validate.probes.failover_trials import FailoverLab, trial_count
from dbc_validate.probes.failover_writer import FailoverWriter, ensure_table, present_rows

if TYPE_CHECKING:
    from dbc_validate.targets.base import Target

DEFAULT_LOCAL_TRIALS = 3


def mirrored_sync(durability: DeclaredDurability) -> SyncReplication:
    """Patroni settings standing in for the declared CNPG replication (method any -> quorum, first -> on)."""
    if not durability.synchronous:
        return SyncReplication()
    mode = "quorum" if durability.method == "any" else "on"
    # Two standbys at most in a 3-member lab.
    return SyncReplication(mode, max(1, min(durability.number, 2)), durability.required)


class PatroniBackend:
    """FailoverBackend over a running PatroniCluster."""

    def __init__(self, lab: PatroniCluster) -> None:
        self.lab = lab
        self.description = f"local Patroni lab ({len(lab.members)} members, Raft DCS, {lab.sync.describe()})"
        self._switchover_error: list[str] = []
        ensure_table(lab.dsn())

    def wait_healthy(self, timeout_s: float) -> None:
        if self._switchover_error:
            raise LabError(self._switchover_error.pop())
        self.lab.wait_healthy(timeout_s)

    def observe(self) -> TopologyEvent | None:
        view = self.lab.view()
        if view is None:
            return None
        return TopologyEvent(time.time(), view.running_leader, view.label(), view.summary())

    def start_writer(self, run_id: str) -> FailoverWriter:
        return FailoverWriter(self.lab.dsn(), run_id, self.lab.root / "writers" / f"{run_id}.log").start()

    def inject(self, primary: str, graceful: bool) -> tuple[float, str]:
        if not graceful:
            return self.lab.kill_member(primary), "kill"

        # POST /switchover blocks until Patroni is done: send it aside so the topology is watched meanwhile.
        def request() -> None:
            try:
                self.lab.switchover(primary)
            except Exception as exc:  # reported by the next wait_healthy
                self._switchover_error.append(f"switchover from {primary} failed: {exc}")

        requested_at = time.time()
        threading.Thread(target=request, name="patroni-switchover", daemon=True).start()
        return requested_at, "switchover"

    def recover(self, old_primary: str) -> None:
        self.lab.restart_member(old_primary)

    def present(self, run_id: str) -> dict[int, int]:
        return present_rows(self.lab.dsn(), run_id)


def provide_patroni_failover_lab(stack: ExitStack, target: Target) -> FailoverLab:
    """Start the Patroni lab for the local target; everything is stopped and removed through `stack`."""
    trials = trial_count(target.settings.failover_trials, DEFAULT_LOCAL_TRIALS)
    durability = durability_of_set(target.manifest_set())
    binaries = find_pg_binaries()
    sync = mirrored_sync(durability)
    lab = PatroniCluster(binaries, timing=PatroniTiming(), sync=sync, progress=target.progress)
    stack.callback(lab.stop)  # registered before start: an interrupted start is cleaned up too
    lab.start()
    target.versions["patroni"] = version("patroni")
    target.versions["postgresql (failover lab)"] = f"{binaries.major} ({binaries.source})"
    timing = lab.timing
    notes = [
        f"local stand-in: {lab.sync.describe()} mirroring {durability.describe()}",
        f"Patroni ttl {timing.ttl} s, loop_wait {timing.loop_wait} s, retry_timeout {timing.retry_timeout} s: "
        "a killed leader is replaced once its lock expires, so local write gaps sit near the ttl (Patroni's "
        "minimum is 20 s); they prove the harness and the declared replication, not CloudNativePG's timing",
        f"lab started in {lab.started_in_s:.1f} s",
    ]
    return FailoverLab(PatroniBackend(lab), trials, target.progress, notes=notes)
