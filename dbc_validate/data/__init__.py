"""Runtime configuration shipped with the harness (read through dbc_validate.resources), not test data."""
