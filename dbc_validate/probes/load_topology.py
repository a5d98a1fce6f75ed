"""Where the split and soak load runs: one Locust process, or a Locust master with local and remote workers.

The requests-in-flight figure the split's WRR bound needs comes from here: distributed workers hold back new
requests while more than a window of their outcomes is not yet counted by the master (see docs/split-and-soak.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from dbc_validate.settings import Settings

JOIN_TIMEOUT_S = 120.0
IN_CLUSTER_WORKERS = 2


@dataclass(frozen=True)
class LoadTopology:
    workers: int = 0  # local worker processes started by the harness
    master_bind: tuple[str, int] | None = None  # None: the master listens on loopback only
    expect_remote: int = 0  # workers on other machines the master waits for
    join_timeout_s: float = JOIN_TIMEOUT_S
    in_cluster: bool = False  # the soak's load as Deployments in the cluster (cluster soak subjects)
    keep: bool = False  # --keep-cluster: leave the in-cluster load in place at the end

    @property
    def in_cluster_workers(self) -> int:
        return self.workers or IN_CLUSTER_WORKERS

    @property
    def distributed(self) -> bool:
        return self.workers > 0 or self.expect_remote > 0

    @property
    def total_workers(self) -> int:
        return self.workers + self.expect_remote

    def users(self, users_per_process: int) -> int:
        """Concurrent Locust users overall: the per-process figure on each worker."""
        return users_per_process * max(1, self.total_workers)

    def window(self, users_per_process: int) -> int:
        """Outcomes a worker may have sent to Traefik and not yet seen counted by the master."""
        return 2 * users_per_process

    def in_flight(self, users_per_process: int) -> int:
        """Requests Traefik may have served that the deciding process has not counted, at any moment."""
        if not self.distributed:
            return users_per_process
        return self.total_workers * self.window(users_per_process)

    def describe(self) -> str:
        if self.in_cluster:
            return f"in-cluster Locust master + {self.in_cluster_workers} worker(s)"
        if not self.distributed:
            return "one Locust process"
        parts = [f"{self.workers} local worker(s)"] if self.workers else []
        if self.expect_remote:
            host, port = self.master_bind or ("127.0.0.1", 0)
            parts.append(f"{self.expect_remote} remote worker(s) joining {host}:{port}")
        return "Locust master + " + " + ".join(parts)


def load_topology(settings: Settings) -> LoadTopology:
    return LoadTopology(
        workers=settings.load_workers,
        master_bind=settings.load_master_bind,
        expect_remote=settings.load_expect_workers,
        in_cluster=settings.load_in_cluster,
        keep=settings.keep_cluster,
    )
