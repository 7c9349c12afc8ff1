"""Wire models of browsing: a catalogue row (``WorkCard``), a search page, related works, and
the parts a work's page adds (listings, offers, auction, price history, provenance summary)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.trading import Amount, amount, iso


class RoyaltyShare(BaseModel):
    account: str
    bps: int = Field(description="Share of the royalty, basis points of 10,000")


class LicenseCard(BaseModel):
    terms_hash: str
    fee: Amount
    summary: str = Field(description="The terms in words")


class WorkCard(BaseModel):
    """One work (one token; an edition's tokens each have a card) as search results show it."""

    chain_id: int
    collection: str
    collection_name: str | None
    token_id: str
    work_id: str = Field(description="The work's first token (an edition's tokens share it)")
    edition_size: int
    title: str | None = Field(description="The creator's title, else the uploaded file's name")
    description: str | None
    media_type: str | None
    cid: str | None
    content_hash: str
    creator: str | None = Field(description="The rights record's creator")
    tags: list[str]
    minted_at: str | None = Field(description="ISO 8601 UTC (the mint's block time)")
    price: Amount | None = Field(description="The cheapest open listing now (in the search's currency "
                                 "when it names one); null: not for sale")
    price_currency: str | None = Field(default=None, description="That listing's currency: the zero "
                                       "address for ETH, else the ERC-20's address (price is in its units)")
    listing: str | None = Field(
        description="That listing's order hash (buy it: POST /market/orders/{hash}/fill-tx)")
    royalty_bps: int | None
    royalty_receiver: str | None
    split: list[RoyaltyShare] = Field(description="When the royalty goes to a splitter: who gets what share")
    royalty: str | None = Field(description="The royalty and its split in words")
    licenses: list[LicenseCard] = Field(description="License terms attached to this token, in words")

    @classmethod
    def of(cls, row: Any) -> WorkCard:
        return cls(
            chain_id=row.chain_id, collection=row.collection, collection_name=row.collection_name,
            token_id=row.token_id, work_id=row.work_id, edition_size=row.edition_size,
            title=row.title or row.filename, description=row.description, media_type=row.media_type,
            cid=row.cid, content_hash=row.content_hash, creator=row.creator, tags=row.tags,
            minted_at=iso(row.minted_at), price=amount(row.price_wei) if row.price_wei is not None else None,
            listing=row.listing, price_currency=getattr(row, "price_currency", None),
            royalty_bps=row.royalty_bps, royalty_receiver=row.royalty_receiver,
            split=[RoyaltyShare(account=a, bps=b) for a, b in row.split], royalty=row.royalty_text,
            licenses=[LicenseCard(terms_hash=t["terms_hash"], fee=amount(int(t["fee_wei"])),
                                  summary=t["summary"]) for t in row.licenses])


class WorkPageOut(BaseModel):
    """GET /works: one page of a search."""

    works: list[WorkCard]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page (same search and "
                                    "sort); null: this was the last page")


class CollectionCard(BaseModel):
    """A collection in the catalogue (GET /works/collections)."""

    chain_id: int
    collection: str
    name: str | None
    creators: list[str]
    tokens: int
    works: int = Field(description="Distinct works (an edition counts once)")
    listed: int = Field(description="Tokens with an open listing now")
    floor: Amount | None = Field(description="The cheapest open listing now; null: nothing for sale")
    last_minted_at: str | None
    royalty: str | None = Field(description="The royalty and its split in words")
    licenses: list[LicenseCard] = Field(description="License terms on a sample work, in words")

    @classmethod
    def of(cls, c: Any) -> CollectionCard:
        s = c.sample
        return cls(chain_id=c.chain_id, collection=c.collection, name=c.name, creators=c.creators,
                   tokens=c.tokens, works=c.works, listed=c.listed,
                   floor=amount(c.floor_wei) if c.floor_wei is not None else None,
                   last_minted_at=iso(c.last_minted_at), royalty=s.royalty_text if s else None,
                   licenses=[LicenseCard(terms_hash=t["terms_hash"], fee=amount(int(t["fee_wei"])),
                                         summary=t["summary"]) for t in (s.licenses if s else [])])


class RelatedWork(BaseModel):
    work: WorkCard
    score: float
    shared_tags: list[str]
    shared_buyers: list[str]
    reason: str = Field(description="Why it is related, in words")


class RelatedOut(BaseModel):
    subject: WorkCard
    related: list[RelatedWork]


class BookEntry(BaseModel):
    """An open listing or offer on the work."""

    order_hash: str
    side: str
    signer: str
    unit_price: Amount
    quantity: str
    expires_at: str | None


class SaleOut(BaseModel):
    """One sale in the work's price history."""

    at: str | None
    kind: str = Field(description="listing (bought), offer (accepted) or auction (settled)")
    seller: str
    buyer: str
    unit_price: Amount
    quantity: str
    tx_hash: str


class AuctionCard(BaseModel):
    auction_id: int
    status: str = Field(
        description="live, open (not started), ended (to settle), settled, cancelled, unwound")
    seller: str
    reserve: Amount
    starts_at: str | None
    ends_at: str | None
    high_bidder: str | None
    high_bid: Amount | None


class ProvenanceSummary(BaseModel):
    events: int
    transfers: int
    holders: int
    sales: int
    licenses_granted: int
    bridge_departures: int
    minted_at: str | None
    last_activity_at: str | None
    story: str = Field(description="The whole story: GET this path")
    bundle: str = Field(description="The offline-verifiable bundle: GET this path")


class WorkMarket(BaseModel):
    """What a work's page adds to its chain record (GET /catalog/works/...)."""

    card: WorkCard | None = Field(description="The catalogue's row; null until the index has the mint")
    listings: list[BookEntry]
    offers: list[BookEntry]
    auction: AuctionCard | None = Field(description="The token's latest auction")
    price_history: list[SaleOut]
    provenance: ProvenanceSummary


def book_entry(o: Any) -> BookEntry:
    return BookEntry(order_hash=o.order_hash, side=o.side, signer=o.signer,
                     unit_price=amount(int(o.unit_price)), quantity=o.quantity, expires_at=iso(o.expiry))


def work_market(page: Any) -> WorkMarket:
    a = page.auction
    auction = None if a is None else AuctionCard(
        auction_id=a["auction_id"], status=a["status"], seller=a["seller"], reserve=amount(a["reserve_wei"]),
        starts_at=iso(a["start"]), ends_at=iso(a["end"]), high_bidder=a["high_bidder"],
        high_bid=amount(a["high_bid_wei"]) if a["high_bid_wei"] is not None else None)
    p = page.provenance
    return WorkMarket(
        card=WorkCard.of(page.row) if page.row is not None else None,
        listings=[book_entry(o) for o in page.listings], offers=[book_entry(o) for o in page.offers],
        auction=auction,
        price_history=[SaleOut(at=iso(s.block_time), kind=s.kind, seller=s.seller, buyer=s.buyer,
                               unit_price=amount(int(s.unit_price)), quantity=s.quantity, tx_hash=s.tx_hash)
                       for s in page.sales],
        provenance=ProvenanceSummary(
            events=p["events"], transfers=p["transfers"], holders=p["holders"], sales=p["sales"],
            licenses_granted=p["licenses_granted"], bridge_departures=p["bridge_departures"],
            minted_at=iso(p["minted_at"]), last_activity_at=iso(p["last_activity_at"]), story=p["story"],
            bundle=p["bundle"]))
