"""A pytest plugin (`-p double.locust_image`) for in-cluster load runs against the double: the Locust image gets a
test-only digest. The packaged pin's digest stays empty on purpose (no registry here, and the double pulls nothing)."""

from __future__ import annotations

import pytest
import yaml

from dbc_validate.cluster import soak_subject
from dbc_validate.resources import ADDON_PINS, data_path

TEST_DIGEST = "sha256:" + "0" * 64  # syntactically valid, names no real image


def image_with_test_digest() -> str:
    """The pinned Locust image (repository:tag from the add-on pins) with the test-only digest."""
    pins = yaml.safe_load(data_path(ADDON_PINS).read_text(encoding="utf-8"))
    return f"{pins['load']['locust']['image']}@{TEST_DIGEST}"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    image = image_with_test_digest()
    soak_subject.pinned_image = lambda pins=None: image  # the name the soak subject calls
