"""Works: browse and search the catalogue (``GET /works``: words, tags, filters, sorting, cursor
pages) and a work's related works (shared tags, shared buyers, each with its reason). Public reads;
the catalogue follows the index before each answer (api/works_index.py). A work's own page is
``GET /catalog/works/{chain_id}/{collection}/{token_id}`` (api/web/catalog.py)."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.browse import BrowseError, Jurisdiction, LicenseKind, make_search
from api.deps import DatabaseDep, GatewayDep
from api.errors import NotFoundError, UnprocessableError
from api.schemas.works import CollectionCard, RelatedOut, RelatedWork, WorkCard, WorkPageOut
from api.types import MAX_CHAIN_ID, Address
from api.works_index import collections, refresh, related, search

router = APIRouter(prefix="/works", tags=["works"])
MAX_WEI = 2**256 - 1


@router.get("", response_model=WorkPageOut,
            summary="Search the catalogue: words (title, description, file and collection name), tags "
                    "(all of them), creator, media type, chain, collection, listed only, price range, "
                    "currency, license type, jurisdiction profile; newest first or by price; cursor pages",
            description="Every filter given must hold. The price range and the price sort read the "
                        "cheapest open listing: with `currency`, only listings in that currency, the "
                        "range in its smallest unit (wei for ETH); without, the cheapest listing in any "
                        "currency, its unit price as signed (wei for ETH, the token's smallest unit for "
                        "an ERC-20), as before currencies could be chosen. `license`: `any` (terms "
                        "attached on chain), `commercial` (some attached terms allow commercial use), "
                        "`personal` (some attached terms are for non-commercial use), `derivatives` "
                        "(some attached terms allow derivative works). `jurisdiction`: the collection's "
                        "profile as the platform holds it (its collection policy, pushed on chain to the "
                        "TransferPolicy): `open` (no rule), `no_resale` (secondary sales refused), "
                        "`verified_only` (identity-verified wallets only), `holding_period` (a holding "
                        "period after a transfer).")
def list_works(
    database: DatabaseDep,
    gateway: GatewayDep,
    q: Annotated[str | None, Query(max_length=200, description="Words; every one must match")] = None,
    tag: Annotated[list[str] | None, Query(description="Repeat for several; every one must be on the "
                                           "work (normalized: case, spaces and '#' do not matter)")] = None,
    creator: Address | None = None,
    media_type: Annotated[str | None, Query(max_length=127, description="image/png, or image for "
                                            "every image/...")] = None,
    chain_id: Annotated[int | None, Query(gt=0, le=MAX_CHAIN_ID)] = None,
    collection: Address | None = None,
    listed: Annotated[bool, Query(description="Only works with an open listing now")] = False,
    min_price_wei: Annotated[int | None, Query(ge=0, le=MAX_WEI, description="Cheapest listing at "
                                               "least this (implies listed; see currency)")] = None,
    max_price_wei: Annotated[int | None, Query(ge=0, le=MAX_WEI, description="Cheapest listing at most "
                                               "this (implies listed; see currency)")] = None,
    currency: Annotated[str | None, Query(max_length=42, description="ETH, or an ERC-20's address: only "
                                          "works with an open listing in it; the price range and sort "
                                          "are then in its units")] = None,
    license: Annotated[LicenseKind | None, Query(description="Works offering license terms of this kind "
                                                 "on chain")] = None,
    jurisdiction: Annotated[Jurisdiction | None, Query(description="The collection's jurisdiction "
                                                       "profile")] = None,
    sort: Literal["newest", "price_asc", "price_desc"] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=300,
                                        description="next_cursor of the previous page")] = None,
) -> WorkPageOut:
    try:
        s = make_search(q=q, tags=tag or [], creator=creator, media_type=media_type, chain_id=chain_id,
                        collection=collection, listed=listed, min_price=min_price_wei,
                        max_price=max_price_wei, currency=currency, license=license,
                        jurisdiction=jurisdiction, sort=sort, limit=limit, cursor=cursor)
    except BrowseError as exc:
        raise UnprocessableError(str(exc)) from None
    refresh(database, gateway)
    with database.session() as db:
        rows, next_cursor = search(db, s, int(time.time()))
        return WorkPageOut(works=[WorkCard.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/collections", response_model=list[CollectionCard],
            summary="Collections with catalogued works, most recently minted into first: name, creators, "
                    "works, floor price now (ETH and wei), royalty split and license terms in words")
def list_collections(
    database: DatabaseDep,
    gateway: GatewayDep,
    chain_id: Annotated[int | None, Query(gt=0, le=MAX_CHAIN_ID)] = None,
    creator: Address | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[CollectionCard]:
    refresh(database, gateway)
    with database.session() as db:
        return [CollectionCard.of(c) for c in collections(db, int(time.time()), chain_id=chain_id,
                                                          creator=creator, limit=limit, offset=offset)]


@router.get("/{chain_id}/{collection}/{token_id}/related", response_model=RelatedOut,
            summary="Works related to this one, best first: shared tags, and collectors who bought this "
                    "one and bought them too; each with its reason")
def related_works(
    chain_id: Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)],
    collection: Address,
    token_id: Annotated[int, Path(ge=0, le=MAX_WEI)],
    database: DatabaseDep,
    gateway: GatewayDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> RelatedOut:
    refresh(database, gateway)
    with database.session() as db:
        subject, ranked = related(db, (chain_id, collection, str(token_id)), int(time.time()), limit)
        if subject is None:
            raise NotFoundError(f"no work {token_id} of {collection} on chain {chain_id} in the catalogue "
                                "(not minted, or not indexed yet)")
        return RelatedOut(subject=WorkCard.of(subject), related=[
            RelatedWork(work=WorkCard.of(row), score=r.score, shared_tags=list(r.shared_tags),
                        shared_buyers=list(r.shared_buyers), reason=r.reason) for r, row in ranked])
