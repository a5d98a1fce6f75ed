"""security.network_policies: the app paths the migration depends on are open, and nothing else is.

The truth table (dbc_validate/data/app_paths.yaml, or --app-paths) lists flows that must be allowed (Traefik ->
WordPress, WordPress -> MySQL, DNS, the CNPG operator and replication) and flows that must be denied
(stage -> prod, anything but WordPress -> MySQL, ...). The NetworkPolicy engine decides each one from the
manifest set, so a policy change that opens or breaks an app path fails here before any cluster exists.
"""

from __future__ import annotations

import pytest
import yaml

from dbc_validate.analysis.app_paths import judge_app_paths, parse_app_paths
from dbc_validate.analysis.netpol import build_model

pytestmark = [pytest.mark.static, pytest.mark.gate1("security.network_policies")]


def test_app_paths_are_allowed_or_denied_exactly_as_the_truth_table_says(manifest_set, gate1_settings, gate1_evidence):
    table = gate1_settings.app_paths  # validated when the settings were resolved: an existing file
    paths = parse_app_paths(yaml.safe_load(table.read_text(encoding="utf-8")), str(table))
    verdicts = judge_app_paths(build_model(manifest_set), paths)
    if not verdicts:
        pytest.skip(f"nothing to check: {table.name} lists no app path")
    wrong = [v for v in verdicts if not v.agrees]
    gate1_evidence.measure("app_paths_checked", len(verdicts))
    gate1_evidence.measure("app_paths_must_allow", sum(p.allowed for p in paths))
    gate1_evidence.measure("app_paths_wrong", len(wrong))
    assert not wrong, f"{len(wrong)} app path(s) differ from {table.name}:\n" + "\n".join(v.describe() for v in wrong)
