"""Shared setup of the harness's own tests."""

# Imported once here, before any pytester run: pytester removes modules an inner session imported, and
# re-importing these on every inner run costs seconds (hypothesis) or breaks C-extension state (yaml).
import hypothesis  # noqa: F401
import jinja2  # noqa: F401
import yaml  # noqa: F401

import dbc_validate.manifests.model
import dbc_validate.report.html  # noqa: F401

pytest_plugins = ["pytester"]
