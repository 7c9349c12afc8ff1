"""The web app's pages without a chain or a browser: every page renders in both languages with the
same words available, a strict Content-Security-Policy, and nothing a visitor types reaches the page
unescaped. (The real-browser journey is tests/integration/test_webapp_browser.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.settings import ApiSettings
from api.web import pages
from api.web.i18n import MESSAGES, missing_keys, pick_language

pytestmark = pytest.mark.unit

PAGES = ["/", "/studio", "/audit", "/operator/kyc", "/operator/risk", "/operator/bridge", "/collector", "/commissions",
         "/work/31337/0x5FbDB2315678afecb367f032d93F642f64180aa3/7",
         "/audit?chain_id=31337&collection=0x5FbDB2315678afecb367f032d93F642f64180aa3&token_id=7"]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(ApiSettings(environment="test", data_dir=tmp_path)),
                      raise_server_exceptions=False)


def test_both_languages_have_every_key_and_the_same_placeholders():
    assert missing_keys() == {}
    for key, english in MESSAGES["en"].items():
        assert set(re.findall(r"\{(\w+)\}", english)) == set(re.findall(r"\{(\w+)\}", MESSAGES["zh"][key])), key


@pytest.mark.parametrize(("query", "cookie", "accept", "expected"), [
    ("zh", None, "en", "zh"), (None, "zh", "en-GB", "zh"), (None, None, "zh-CN,zh;q=0.9", "zh"),
    (None, None, "fr, en;q=0.5", "en"), ("xx", "yy", None, "en"),
])
def test_the_language_is_picked_from_query_cookie_then_browser(query, cookie, accept, expected):
    assert pick_language(query, cookie, accept) == expected


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_in_both_languages_with_a_strict_policy(client, path):
    for lang, title in (("en", "Chainright"), ("zh", "Chainright")):
        r = client.get(path, params={"lang": lang})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert f'<html lang="{"zh-Hans" if lang == "zh" else "en"}">' in r.text
        assert title in r.text and "$" not in r.text.split('id="messages">')[0]  # no placeholder left
        assert re.search(r"<script(?![^>]*(type=\"application/json\"|src=))", r.text) is None  # no inline code
        assert r.cookies.get("lang") == lang


def test_the_chosen_language_is_remembered(client):
    client.get("/", params={"lang": "zh"})
    assert "创作者工作室" in client.get("/studio").text


def test_what_a_visitor_types_is_escaped_or_refused(client):
    r = client.get("/audit", params={"chain_id": "31337", "collection": '"><script>alert(1)</script>',
                                      "token_id": "1"})
    assert r.status_code == 422 and "<script>alert" not in r.text
    r = client.get("/work/31337/0x5FbDB2315678afecb367f032d93F642f64180aa3/1<b>")
    assert r.status_code == 422


def test_the_messages_cannot_close_their_script_element(monkeypatch, client):
    monkeypatch.setitem(MESSAGES["en"], "site", "</script><script>alert(1)</script>")
    r = client.get("/", params={"lang": "en"})
    assert "</script><script>alert(1)" not in r.text


def test_an_unbuilt_script_is_a_problem_naming_the_fix(monkeypatch, client, tmp_path):
    monkeypatch.setitem(pages.STATIC, "app.js", (tmp_path / "missing.js", "text/javascript"))
    r = client.get("/static/app.js")
    assert r.status_code == 404 and "make setup" in r.json()["detail"]
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/app.css").headers["content-type"].startswith("text/css")


def test_every_word_the_script_shows_exists_in_both_languages():
    """The script asks the catalogue for its words by key (``t('key')``, and a few by prefix such as
    ``error.status.<code>``): each key it names, and each prefix's expected members, is in both."""
    script = (Path(pages.__file__).parent / "js" / "app.js").read_text(encoding="utf-8")
    keys = set(re.findall(r"\bt\('([\w.]+)'", script))
    keys |= {f"risk.field.{f}" for f in re.search(r"POLICY_FIELDS = \[([^\]]+)\]", script).group(1)
             .replace("'", "").replace(" ", "").split(",")} | {"risk.field.operator_reference"}
    keys |= {f"operator.empty_{s}" for s in ("submitted", "approved", "rejected", "revoked", "expired")}
    keys |= {f"bridge.state.{s}" for s in ("pending", "failed", "stuck")}
    keys |= {f"error.status.{c}" for c in (400, 401, 403, 404, 409, 422, 503)}
    assert len(keys) > 100
    for lang, messages in MESSAGES.items():
        assert keys - set(messages) == set(), lang
