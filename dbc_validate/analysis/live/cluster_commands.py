"""The kind/k3d/docker command lines of a throwaway cluster's lifecycle (pure): cluster/lifecycle.py and
cluster/deploy.py run them, `dbc-validate plan` prints them, so the plan shows exactly what a run does."""

from __future__ import annotations

CLUSTER_TOOLS = ("kind", "k3d")


def _check(tool: str) -> None:
    if tool not in CLUSTER_TOOLS:
        raise ValueError(f"no cluster commands for {tool!r}; known: {', '.join(CLUSTER_TOOLS)}")


def create_command(tool: str, binary: str, name: str, config: str, image: str) -> list[str]:
    """Create cluster `name` from its config file with node image `image`, waiting for it to be ready."""
    _check(tool)
    if tool == "kind":
        return [binary, "create", "cluster", "--name", name, "--image", image, "--config", config, "--wait", "180s"]
    return [
        binary, "cluster", "create", name, "--config", config, "--image", image,
        "--wait", "--timeout", "300s", "--kubeconfig-update-default=false",
    ]  # fmt: skip


def load_image_command(tool: str, binary: str, name: str, image: str) -> list[str]:
    """Copy a locally built image into every node of cluster `name`."""
    _check(tool)
    if tool == "kind":
        return [binary, "load", "docker-image", image, "--name", name]
    return [binary, "image", "import", image, "--cluster", name]


def delete_command(tool: str, binary: str, name: str) -> list[str]:
    _check(tool)
    if tool == "kind":
        return [binary, "delete", "cluster", "--name", name]
    return [binary, "cluster", "delete", name]


def build_image_command(image: str, context: str) -> list[str]:
    """Build an image the manifest set references from its pinned build context."""
    return ["docker", "build", "-t", image, context]
