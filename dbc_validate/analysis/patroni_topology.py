"""Patroni topology from its REST `GET /cluster` document: who leads, who streams, is the cluster whole (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LEADER_ROLES = ("leader", "standby_leader")
SYNC_ROLES = ("sync_standby", "quorum_standby")
STANDBY_ROLES = ("replica", *SYNC_ROLES)


@dataclass(frozen=True)
class MemberView:
    name: str
    role: str  # leader | standby_leader | sync_standby | quorum_standby | replica
    state: str  # leader: running, starting, ...; replicas: their replication state (streaming) when known
    timeline: int | None = None
    lag: int | None = None  # bytes behind the leader, when Patroni reports a number


@dataclass(frozen=True)
class ClusterView:
    members: tuple[MemberView, ...]

    @property
    def leader(self) -> str | None:
        """The member holding the leader lock (it may be dead until the lock expires)."""
        return next((m.name for m in self.members if m.role in LEADER_ROLES), None)

    @property
    def running_leader(self) -> str | None:
        return next((m.name for m in self.members if m.role in LEADER_ROLES and m.state == "running"), None)

    def healthy(self, expected_members: int, sync_standbys: int = 0) -> bool:
        """Every expected member is present: one running leader, every other one streaming from it, and at
        least `sync_standbys` of them registered as synchronous (Patroni's /sync key settled: a leader lost
        while it is still being written leaves no member entitled to promote)."""
        leaders = [m for m in self.members if m.role in LEADER_ROLES]
        standbys = [m for m in self.members if m.role in STANDBY_ROLES]
        return (
            len(self.members) == expected_members
            and len(leaders) == 1
            and leaders[0].state == "running"
            and len(standbys) == expected_members - 1
            and all(m.state == "streaming" for m in standbys)
            and sum(1 for m in standbys if m.role in SYNC_ROLES) >= sync_standbys
        )

    def summary(self) -> str:
        return "; ".join(f"{m.name} {m.role} {m.state}".rstrip() for m in self.members) or "no members"

    def label(self) -> str:
        """A short label for a timeline chart."""
        return f"leader {self.leader}" if self.leader else "no leader"


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_cluster(payload: Mapping[str, Any]) -> ClusterView:
    """A ClusterView from the JSON of `GET /cluster` (unknown fields ignored, members sorted by name)."""
    members = []
    for raw in payload.get("members") or []:
        if not isinstance(raw, Mapping) or not raw.get("name"):
            continue
        members.append(
            MemberView(
                name=str(raw["name"]),
                role=str(raw.get("role", "")),
                state=str(raw.get("state", "")),
                timeline=_int_or_none(raw.get("timeline")),
                lag=_int_or_none(raw.get("lag")),
            )
        )
    return ClusterView(tuple(sorted(members, key=lambda m: m.name)))


def majority_view(views: Sequence[ClusterView]) -> ClusterView | None:
    """The view most members report; on a tie the first one's (None without views).

    Every Patroni member answers `/cluster` from its own Raft replica; one that just restarted replays its
    journal and reports the topology from before its death until it has caught up.
    """
    if not views:
        return None
    counts = Counter(v.summary() for v in views)
    best = max(counts.values())
    return next(v for v in views if counts[v.summary()] == best)
