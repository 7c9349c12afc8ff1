"""The web app's pages: a server-rendered shell per page (header with the wallet, navigation,
language switch, the page's form), filled in by /static/app.js, which calls the API's JSON routes
from the same origin with the user's session. The pages hold no data of their own."""

from __future__ import annotations

import html
import json
from pathlib import Path
from string import Template
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.errors import NotFoundError
from api.types import MAX_CHAIN_ID, Address
from api.web.i18n import LANGUAGES, MESSAGES, pick_language

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
BUNDLE_DIR = HERE / "static" / "dist"
"""Where ``make setup`` (tools/build-webapp.sh) writes the wallet bundle (gitignored)."""
STATIC = {"app.css": (HERE / "static" / "app.css", "text/css"),
          "app.js": (BUNDLE_DIR / "app.js", "text/javascript")}
TEMPLATES = HERE / "templates"
_BASE = Template((TEMPLATES / "base.html").read_text(encoding="utf-8"))


def _body(name: str) -> str:
    """A page's markup (templates/<name>.html): ``$key_name`` is the message ``key.name``."""
    return (TEMPLATES / f"{name}.html").read_text(encoding="utf-8")


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'; object-src 'none'")
ChainPath = Annotated[int, PathParam(gt=0, le=MAX_CHAIN_ID)]
TokenPath = Annotated[int, PathParam(ge=0, lt=2**256)]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(request: Request, name: str, title_key: str, body: str, data: dict[str, str] | None = None,
         lang_query: str | None = None) -> HTMLResponse:
    lang = pick_language(lang_query, request.cookies.get("lang"), request.headers.get("accept-language"))
    m = MESSAGES[lang]
    current = {k: "" for k in ("explore", "studio", "collector", "audit", "operator", "account")}
    section = {"explore": "explore", "work": "explore", "studio": "studio", "audit": "audit",
               "operator": "operator", "operator_risk": "operator", "operator_bridge": "operator",
               "collector": "collector", "commissions": "collector", "account": "account"}[name]
    current[section] = ' aria-current="page"'
    links = " ".join(
        f'<a href="?lang={code}" hreflang="{code}" lang="{code}"'
        f'{" aria-current=true" if code == lang else ""}>{_e(label)}</a>'
        for code, label in LANGUAGES.items())
    body_html = Template(body).safe_substitute({k.replace(".", "_"): _e(v) for k, v in m.items()})
    messages = json.dumps(m, ensure_ascii=False).replace("<", "\\u003c")
    text = _BASE.substitute(
        html_lang="zh-Hans" if lang == "zh" else "en", title=_e(m[title_key]), page=name,
        data_attrs=" ".join(f'data-{k}="{_e(v)}"' for k, v in (data or {}).items()),
        messages_json=messages, skip=_e(m["skip"]), nav_label=_e(m["site"]),
        nav_explore=_e(m["nav.explore"]), nav_studio=_e(m["nav.studio"]), nav_audit=_e(m["nav.audit"]),
        nav_operator=_e(m["nav.operator"]), cur_explore=current["explore"], cur_studio=current["studio"],
        cur_audit=current["audit"], cur_operator=current["operator"], cur_account=current["account"],
        nav_account=_e(m["nav.account"]), nav_collector=_e(m["nav.collector"]),
        cur_collector=current["collector"],
        lang_links=f'<span class="sr-only">{_e(m["nav.language"])}:</span> {links}',
        connect=_e(m["wallet.connect"]), signin=_e(m["wallet.signin"]), signout=_e(m["wallet.signout"]),
        body=body_html)
    response = HTMLResponse(text, headers={"Content-Security-Policy": CSP, "Content-Language": lang,
                                           "X-Content-Type-Options": "nosniff",
                                           "Referrer-Policy": "same-origin"})
    if lang_query in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 86_400, samesite="lax")
    return response


Lang = Annotated[str | None, Query(max_length=5)]








@router.get("/", response_class=HTMLResponse)
def explore(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "explore", "explore.title", _body("explore"), lang_query=lang)


@router.get("/work/{chain_id}/{collection}/{token_id}", response_class=HTMLResponse)
def work(request: Request, chain_id: ChainPath, collection: Address, token_id: TokenPath,
         lang: Lang = None) -> HTMLResponse:
    return page(request, "work", "work.title", _body("work"), lang_query=lang,
                data={"chain": str(chain_id), "collection": collection, "token": str(token_id)})


@router.get("/studio", response_class=HTMLResponse)
def studio(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "studio", "studio.title", _body("studio"), lang_query=lang)


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, lang: Lang = None,
          chain_id: Annotated[int | None, Query(gt=0, le=MAX_CHAIN_ID)] = None,
          collection: Address | None = None,
          token_id: Annotated[int | None, Query(ge=0, lt=2**256)] = None) -> HTMLResponse:
    values = {"chain_id": "" if chain_id is None else str(chain_id), "collection": collection or "",
              "token_id": "" if token_id is None else str(token_id)}
    body = Template(_body("audit")).safe_substitute({k: _e(v) for k, v in values.items()})
    data = {"chain": values["chain_id"], "collection": values["collection"], "token": values["token_id"]}
    return page(request, "audit", "audit.title", body, lang_query=lang, data=data)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "account", "account.title", _body("account"), lang_query=lang)


@router.get("/operator/kyc", response_class=HTMLResponse)
def operator(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "operator", "operator.title", _body("operator"), lang_query=lang)


@router.get("/operator/risk", response_class=HTMLResponse)
def operator_risk(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "operator_risk", "risk.title", _body("operator_risk"), lang_query=lang)


@router.get("/operator/bridge", response_class=HTMLResponse)
def operator_bridge(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "operator_bridge", "bridge.title", _body("operator_bridge"), lang_query=lang)


@router.get("/collector", response_class=HTMLResponse)
def collector(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "collector", "collector.title", _body("collector"), lang_query=lang)


@router.get("/commissions", response_class=HTMLResponse)
def commissions(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "commissions", "escrow.title", _body("commissions"), lang_query=lang)


@router.get("/static/{name}")
def static(name: str) -> Response:
    entry = STATIC.get(name)
    if entry is None:
        raise NotFoundError(f"no static file {name}")
    path, media_type = entry
    if not path.is_file():
        raise NotFoundError(f"{name} is not built: run 'make setup' (tools/build-webapp.sh builds it)")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})
