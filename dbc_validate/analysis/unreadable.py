"""An object the analysis cannot read (a field of the wrong type) as one line naming it, not a traceback."""

from __future__ import annotations

from dbc_validate.analysis.findings import Severity
from dbc_validate.analysis.schema import DEFAULT_KUBE_VERSION, schema_findings
from dbc_validate.errors import ManifestError
from dbc_validate.manifests.model import ManifestSet

# What reading a field of an unexpected type raises deep in the rules (a list where a mapping belongs, ...).
READ_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError)


def unreadable(manifests: ManifestSet, exc: BaseException, kube_version: str = DEFAULT_KUBE_VERSION) -> ManifestError:
    """The error to raise instead of `exc`: the first schema violation when the schema explains it (the API
    server would reject that object too), else the exception's own words."""
    origins = {o.ref: o.origin for o in manifests.objects}
    for found in schema_findings(manifests.objects, kube_version):
        if found.severity is Severity.ERROR and found.rule == "schema.invalid":
            return ManifestError(
                f"{origins.get(found.object, manifests.source)}: {found.object}: {found.message}",
                "correct that field: the API server would reject the object too",
            )
    return ManifestError(
        f"{manifests.source}: an object has a field of a type the analysis cannot read ({type(exc).__name__}: {exc})",
        "check each object against its API schema, e.g. kubectl apply --dry-run=server -f FILE",
    )
