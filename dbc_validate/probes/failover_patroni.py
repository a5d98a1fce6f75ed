"""The local failover backend: failover trials over a running Patroni lab (started by the local target)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Protocol

from dbc_validate.analysis.patroni_topology import ClusterView
from dbc_validate.capabilities import TopologyEvent
from dbc_validate.errors import LabError
from dbc_validate.probes.failover_writer import FailoverWriter, ensure_table, present_rows


class PatroniLab(Protocol):
    """What the backend needs of a running Patroni lab (labs.patroni_cluster.PatroniCluster)."""

    root: Path

    @property
    def description(self) -> str: ...

    def dsn(self) -> str: ...

    def view(self) -> ClusterView | None: ...

    def wait_healthy(self, timeout_s: float) -> object: ...

    def kill_member(self, name: str) -> float: ...

    def restart_member(self, name: str) -> None: ...

    def switchover(self, leader: str) -> float: ...


class PatroniBackend:
    """FailoverBackend over a running Patroni lab."""

    def __init__(self, lab: PatroniLab) -> None:
        self.lab = lab
        self.description = lab.description
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
