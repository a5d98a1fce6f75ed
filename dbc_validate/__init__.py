"""dbc_validate: the dirtbikechina Gate 1 validation harness (pytest plugin, suites, report)."""

__version__ = "0.1.0"
