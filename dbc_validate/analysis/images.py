"""Image rules: every container image is pinned to a version tag (and ideally a digest)."""

from __future__ import annotations

from dataclasses import dataclass

from dbc_validate.analysis.cluster_model import ClusterModel
from dbc_validate.analysis.findings import Finding, finding


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None
    digest: str | None

    @property
    def unpinned(self) -> bool:
        """Tagged latest, or neither tagged nor pinned by digest (which also means latest)."""
        return self.tag == "latest" or (self.tag is None and self.digest is None)


def parse_image(image: str) -> ImageRef:
    """Split "registry:5000/path/name:tag@sha256:..." into repository, tag and digest."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:  # a colon after the last slash separates the tag (one before it is a registry port)
        return ImageRef(rest[:colon], rest[colon + 1 :] or None, digest or None)
    return ImageRef(rest, None, digest or None)


def image_findings(model: ClusterModel) -> list[Finding]:
    findings = []
    for workload in model.manifest_workloads:
        if workload.operator_managed:
            continue  # the CNPG imageName is judged by the database rules
        for container in workload.containers:
            if not container.image:
                continue
            image = parse_image(container.image)
            if image.unpinned:
                problem = "is tagged latest" if image.tag == "latest" else "has no tag"
                findings.append(
                    finding(
                        "images.latest-tag",
                        workload.ref,
                        f"image {container.image} {problem}",
                        container=container.label,
                    )
                )
            elif image.digest is None:
                findings.append(
                    finding(
                        "images.no-digest",
                        workload.ref,
                        f"image {container.image} has no digest",
                        container=container.label,
                    )
                )
    return findings
