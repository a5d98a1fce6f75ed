"""Pure analysis of a manifest set: findings from the object model, no I/O.

`analyze(manifest_set, *, expected_split="70/30", kube_version="1.36") -> AnalysisResult(findings, summary)`
runs every rule; the NetworkPolicy engine lives in `dbc_validate.analysis.netpol`; rule ids and their
categories, severities and fixes are catalogued in `dbc_validate.analysis.findings.RULES`.
"""

from __future__ import annotations

from dbc_validate.analysis.analyzer import AnalysisResult, analyze
from dbc_validate.analysis.findings import Finding

__all__ = ["AnalysisResult", "Finding", "analyze"]
