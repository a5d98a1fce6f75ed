"""Where the live NetworkPolicy check gets its expected matrix: the NetworkPolicy engine of the static
analysis (`expected_matrix(build_model(manifest_set))`), so the live probe and the static check judge
against one and the same computation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dbc_validate.analysis.live.netprobe import FlowLike
from dbc_validate.manifests.model import ManifestSet

Matrix = Callable[[ManifestSet], Sequence[FlowLike]]


class EngineUnavailable(Exception):
    """The NetworkPolicy engine is not part of this installation; the message is the skip reason."""


def engine_matrix() -> Matrix:
    """The engine's matrix function, or EngineUnavailable when the engine modules are absent."""
    try:
        from dbc_validate.analysis.cluster_model import build_model  # type: ignore[import-not-found]
        from dbc_validate.analysis.netpol.matrix import expected_matrix  # type: ignore[import-not-found]
    except ImportError as exc:
        raise EngineUnavailable(
            f"the NetworkPolicy engine (dbc_validate.analysis.netpol) is not installed here ({exc.name}); "
            "the live matrix needs it to know which flows must be allowed"
        ) from None
    return lambda ms: expected_matrix(build_model(ms))


def expected_flows(ms: ManifestSet, matrix: Matrix | None = None) -> list[FlowLike]:
    return list((matrix or engine_matrix())(ms))
