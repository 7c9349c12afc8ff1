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
_BASE = Template((HERE / "templates" / "base.html").read_text(encoding="utf-8"))
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
    current = {k: "" for k in ("explore", "studio", "audit", "operator", "account")}
    section = {"explore": "explore", "work": "explore", "studio": "studio", "audit": "audit",
               "operator": "operator", "account": "account"}[name]
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
        nav_account=_e(m["nav.account"]),
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

EXPLORE = """
<h1>$explore_title</h1>
<form id="search" role="search" class="search">
  <label for="q">$explore_search</label>
  <input id="q" name="q" type="search" autocomplete="off">
  <button type="submit">$explore_search_button</button>
</form>
<p id="explore-status" role="status">$common_loading</p>
<ul id="works" class="cards"></ul>
"""

WORK = """
<h1 id="work-title">$work_title</h1>
<div class="work">
  <section aria-labelledby="media-h"><h2 id="media-h">$work_media</h2>
    <div id="media"><p>$common_loading</p></div></section>
  <section aria-labelledby="listings-h"><h2 id="listings-h">$work_listings</h2>
    <div id="listings"></div>
    <div id="buy-panel" hidden>
      <p id="buy-terms"></p>
      <button type="button" id="buy-confirm">$work_buy_confirm</button>
    </div></section>
  <section aria-labelledby="rights-h"><h2 id="rights-h">$work_rights</h2><dl id="rights"></dl></section>
  <section aria-labelledby="royalty-h"><h2 id="royalty-h">$work_royalty</h2><div id="royalty"></div></section>
  <section aria-labelledby="licenses-h"><h2 id="licenses-h">$work_licenses</h2>
    <div id="licenses"></div></section>
  <p><a id="provenance-link" href="#">$work_provenance</a></p>
</div>
"""

STUDIO = """
<h1>$studio_title</h1>
<section aria-labelledby="upload-h"><h2 id="upload-h">$studio_upload</h2>
  <form id="upload-form">
    <label for="file">$studio_file</label> <input id="file" name="file" type="file" required>
    <button type="submit">$studio_upload_button</button>
  </form><p id="upload-out" role="status"></p></section>
<section aria-labelledby="collection-h"><h2 id="collection-h">$studio_collection</h2>
  <form id="collection-form">
    <label for="collection-name">$studio_collection_name</label>
    <input id="collection-name" name="name" required maxlength="64" value="My works">
    <label for="collection-symbol">$studio_symbol</label>
    <input id="collection-symbol" name="symbol" required maxlength="16" pattern="[A-Za-z0-9]+" value="WORKS">
    <label for="royalty-pct">$studio_royalty_pct</label>
    <input id="royalty-pct" name="royalty" type="number" min="0" max="100" step="0.01" value="10">
    <button type="submit">$studio_collection_button</button>
  </form>
  <label for="collection-address">$studio_collection_address</label>
  <input id="collection-address" name="collection" pattern="0x[0-9a-fA-F]{40}" size="44">
  <p id="collection-out" role="status"></p></section>
<section aria-labelledby="mint-h"><h2 id="mint-h">$studio_mint</h2>
  <button type="button" id="mint">$studio_mint_button</button><p id="mint-out" role="status"></p>
  <label for="token-id">$studio_token_id</label>
  <input id="token-id" name="token_id" inputmode="numeric" pattern="[0-9]+" size="8"></section>
<section aria-labelledby="license-h"><h2 id="license-h">$studio_license</h2>
  <form id="license-form">
    <label for="license-template">$studio_license_template</label>
    <select id="license-template" name="template">
      <option value="personal">$studio_license_personal</option>
      <option value="commercial">$studio_license_commercial</option>
      <option value="remix">$studio_license_remix</option>
    </select>
    <label for="license-fee">$studio_license_fee</label>
    <input id="license-fee" name="fee" inputmode="decimal" required pattern="[0-9]+(\\.[0-9]+)?" value="0"
      size="8">
    <button type="submit">$studio_license_button</button>
  </form><p id="license-terms"></p><p id="license-out" role="status"></p></section>
<section aria-labelledby="list-h"><h2 id="list-h">$studio_list</h2>
  <form id="list-form">
    <label for="price">$studio_price</label>
    <input id="price" name="price" inputmode="decimal" required pattern="[0-9]+(\\.[0-9]+)?" value="">
    <label for="days">$studio_days</label>
    <input id="days" name="days" type="number" min="1" max="365" value="30">
    <button type="submit">$studio_list_button</button>
  </form><p id="list-terms"></p><p id="list-out" role="status"></p></section>
"""

AUDIT = """
<h1>$audit_title</h1>
<form id="audit-form" class="inline" action="/audit" method="get">
  <label for="a-chain">$audit_chain</label>
  <input id="a-chain" name="chain_id" inputmode="numeric" value="$chain_id" required>
  <label for="a-collection">$audit_collection</label>
  <input id="a-collection" name="collection" value="$collection" size="44" required>
  <label for="a-token">$audit_token_id</label>
  <input id="a-token" name="token_id" inputmode="numeric" value="$token_id" required>
  <button type="submit">$audit_show</button>
</form>
<div id="audit-out"></div>
"""

ACCOUNT = """
<h1>$account_title</h1>
<section aria-labelledby="status-h"><h2 id="status-h">$account_status</h2>
  <p id="kyc-status" role="status"></p></section>
<section aria-labelledby="apply-h"><h2 id="apply-h">$account_apply</h2>
  <p>$account_privacy</p>
  <form id="apply-form" class="stack">
    <label for="legal-name">$account_legal_name</label>
    <input id="legal-name" name="legal_name" required minlength="2" maxlength="200" autocomplete="name">
    <label for="dob">$account_dob</label>
    <input id="dob" name="date_of_birth" type="date" required autocomplete="bday">
    <label for="country">$account_country</label>
    <input id="country" name="country" required minlength="2" maxlength="2" pattern="[A-Za-z]{2}" size="3">
    <label for="doc-type">$account_doc_type</label>
    <select id="doc-type" name="document_type">
      <option value="passport">$account_passport</option>
      <option value="id_card">$account_id_card</option>
      <option value="driving_licence">$account_driving_licence</option>
    </select>
    <label for="doc-number">$account_doc_number</label>
    <input id="doc-number" name="document_number" required minlength="3" maxlength="64"
      pattern="[A-Za-z0-9 -]+">
    <button type="submit">$account_submit</button>
  </form></section>
"""

OPERATOR = """
<h1>$operator_title</h1>
<p id="operator-status" role="status"></p>
<div id="queue"></div>
"""


@router.get("/", response_class=HTMLResponse)
def explore(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "explore", "explore.title", EXPLORE, lang_query=lang)


@router.get("/work/{chain_id}/{collection}/{token_id}", response_class=HTMLResponse)
def work(request: Request, chain_id: ChainPath, collection: Address, token_id: TokenPath,
         lang: Lang = None) -> HTMLResponse:
    return page(request, "work", "work.title", WORK, lang_query=lang,
                data={"chain": str(chain_id), "collection": collection, "token": str(token_id)})


@router.get("/studio", response_class=HTMLResponse)
def studio(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "studio", "studio.title", STUDIO, lang_query=lang)


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, lang: Lang = None,
          chain_id: Annotated[int | None, Query(gt=0, le=MAX_CHAIN_ID)] = None,
          collection: Address | None = None,
          token_id: Annotated[int | None, Query(ge=0, lt=2**256)] = None) -> HTMLResponse:
    values = {"chain_id": "" if chain_id is None else str(chain_id), "collection": collection or "",
              "token_id": "" if token_id is None else str(token_id)}
    body = Template(AUDIT).safe_substitute({k: _e(v) for k, v in values.items()})
    data = {"chain": values["chain_id"], "collection": values["collection"], "token": values["token_id"]}
    return page(request, "audit", "audit.title", body, lang_query=lang, data=data)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "account", "account.title", ACCOUNT, lang_query=lang)


@router.get("/operator/kyc", response_class=HTMLResponse)
def operator(request: Request, lang: Lang = None) -> HTMLResponse:
    return page(request, "operator", "operator.title", OPERATOR, lang_query=lang)


@router.get("/static/{name}")
def static(name: str) -> Response:
    entry = STATIC.get(name)
    if entry is None:
        raise NotFoundError(f"no static file {name}")
    path, media_type = entry
    if not path.is_file():
        raise NotFoundError(f"{name} is not built: run 'make setup' (tools/build-webapp.sh builds it)")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})
