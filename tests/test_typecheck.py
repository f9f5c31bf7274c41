"""mypy over the package is part of the test run (configured in pyproject.toml). It runs in a
child process started when collection ends, beside the other tests (conftest.mypy_report)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_mypy_is_clean(mypy_report):
    returncode, output = mypy_report
    assert returncode == 0, output[-6000:]
