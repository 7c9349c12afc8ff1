"""/docs and /redoc work offline: every script, style sheet and icon they load is served by the API."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.db import Database
from api.settings import ApiSettings

pytestmark = pytest.mark.unit

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")
CONTENT_TYPES = {".js": ("javascript",), ".css": ("text/css",), ".png": ("image/png",)}


def _assets(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_loads_only_same_origin_assets_and_they_are_served(
        page: str, api_settings: ApiSettings, database: Database) -> None:
    client = TestClient(create_app(api_settings, db=database))
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assets = _assets(html)
    assert assets, f"{page} references no asset at all: the pattern is wrong"
    foreign = [a for a in assets if "//" in a or not a.startswith("/")]
    assert not foreign, f"{page} loads assets from elsewhere: {foreign}"
    assert "cdn" not in html.lower() and "fonts.googleapis" not in html
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        suffix = asset[asset.rfind("."):]
        expected = CONTENT_TYPES.get(suffix)
        assert expected is not None, f"unexpected asset type {asset}"
        assert any(e in served.headers["content-type"] for e in expected), (asset, served.headers)
        assert len(served.content) > 1000, f"{asset} is suspiciously small"


def test_openapi_document_still_served_and_docs_routes_not_in_it(
        api_settings: ApiSettings, database: Database) -> None:
    client = TestClient(create_app(api_settings, db=database))
    spec = client.get("/openapi.json").json()
    assert "/docs" not in spec["paths"] and "/redoc" not in spec["paths"]
    assert client.get("/docs/oauth2-redirect").status_code == 200
