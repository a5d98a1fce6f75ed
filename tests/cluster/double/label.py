"""A pytest plugin (`-p double.label`) for Gate 1 runs against the double: labels the report as test-double output."""

from __future__ import annotations

import pytest

from dbc_validate.plugin import SESSION_KEY

NOTE = "TEST DOUBLE: this run talked to the harness's Kubernetes API test double, not a cluster; it is not evidence"


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # After collection: the plugin may activate the Gate 1 session as late as collection_modifyitems.
    state = session.config.stash.get(SESSION_KEY, None)
    if state is not None and NOTE not in state.notes:
        state.notes.append(NOTE)
