"""API fixtures (the database backends are in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import ApiSettings


@pytest.fixture
def api_settings(tmp_path: Path) -> ApiSettings:
    return ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                       siwe_uri="http://testserver")
