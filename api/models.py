"""Tables. Response models on the wire live in ``api.schemas``; these never leave the server."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class IdempotencyRecord(Base):
    """The stored answer to a state-changing request made with an ``Idempotency-Key``."""

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """None while the first request is still running."""
    content_type: Mapped[str | None] = mapped_column(String(128), nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginNonce(Base):
    """A single-use login challenge (SIWE nonce or DID presentation challenge)."""

    __tablename__ = "login_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str] = mapped_column(String(255))
    uri: Mapped[str] = mapped_column(String(512))
    chain_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UserSession(Base):
    """A login session; the bearer token names it, logout revokes it."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)
    """The user's DID."""
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class User(Base):
    """A platform user, known by DID; roles are granted by operators."""

    __tablename__ = "users"

    did: Mapped[str] = mapped_column(String(255), primary_key=True)
    address: Mapped[str | None] = mapped_column(String(42), nullable=True, index=True)
    roles: Mapped[str] = mapped_column(Text, default="")
    """Comma-separated role names (kyc_officer, operator, risk)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KycApplication(Base):
    """One KYC application. Personal data only in ``pii`` (AES-GCM, see api.kyc.pii)."""

    __tablename__ = "kyc_applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)
    """The applicant's DID."""
    address: Mapped[str | None] = mapped_column(String(42), nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    country: Mapped[str] = mapped_column(String(2))
    """ISO 3166-1 alpha-2; also written on chain, so not treated as secret."""
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pii: Mapped[bytes] = mapped_column(LargeBinary)
    document: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    document_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reviewer: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    credential: Mapped[str | None] = mapped_column(Text, nullable=True)
    sanctions_hits: Mapped[str | None] = mapped_column(Text, nullable=True)
    sync_status: Mapped[str] = mapped_column(String(24), default="none")
    """none | approving (chain writes running) | synced | rolled_back | rollback_failed | pending_retry |
    superseded | chain_expiry"""
    sync_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    chain_writes: Mapped[str | None] = mapped_column(Text, nullable=True)


class KycEvent(Base):
    """Every KYC decision and chain write, in order (the audit trail; no personal data)."""

    __tablename__ = "kyc_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class Asset(Base):
    """An uploaded work, content-addressed."""

    __tablename__ = "assets"

    cid: Mapped[str] = mapped_column(String(100), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(66), index=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(127))
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    uploader: Mapped[str] = mapped_column(String(255), index=True)
    store: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """What the creator calls the work (default in the catalogue: the file's name)."""
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class AssetTag(Base):
    """A work's tag, normalized (``api.browse.normalize_tag``); searched by tag first."""

    __tablename__ = "asset_tags"
    __table_args__ = (Index("ix_asset_tags_tag", "tag", "cid"),)

    cid: Mapped[str] = mapped_column(String(100), primary_key=True)
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)


class CatalogWork(Base):
    """One minted token in the catalogue, followed from the index's ``WorkMinted`` and rights
    events (api/works_index.py); title, media type and tags come from its asset by CID."""

    __tablename__ = "catalog_works"
    __table_args__ = (
        UniqueConstraint("chain_id", "collection", "token_id", name="uq_catalog_works_token"),
        Index("ix_catalog_works_newest", "minted_at", "id"),
        Index("ix_catalog_works_event", "chain_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    collection: Mapped[str] = mapped_column(String(42))
    collection_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    token_id: Mapped[str] = mapped_column(String(80))
    work_id: Mapped[str] = mapped_column(String(80))
    """The first token of the work (an edition's tokens share it)."""
    edition_size: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(66))
    cid: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    creator: Mapped[str | None] = mapped_column(String(42), nullable=True, index=True)
    """The rights record's creator (checksummed)."""
    minted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The mint's block time (unix seconds)."""
    royalty_receiver: Mapped[str | None] = mapped_column(String(42), nullable=True)
    royalty_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The royalty read from the chain when catalogued (the collection's ``DefaultRoyaltyUpdated``
    at its creation comes before the indexer follows it); a later update in the index wins."""
    event_id: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    """The mint's event, block and transaction: a reorg that drops them drops the row."""


class CatalogSale(Base):
    """A sale of a token (an ``OrderFilled``, or a settled auction), followed from the index."""

    __tablename__ = "catalog_sales"
    __table_args__ = (Index("ix_catalog_sales_token", "chain_id", "collection", "token_id"),
                      Index("ix_catalog_sales_event", "chain_id", "event_id"))

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    collection: Mapped[str] = mapped_column(String(42))
    token_id: Mapped[str] = mapped_column(String(80))
    buyer: Mapped[str] = mapped_column(String(42), index=True)
    seller: Mapped[str] = mapped_column(String(42))
    unit_price: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(42))
    kind: Mapped[str] = mapped_column(String(16))
    """``listing``, ``offer`` or ``auction``."""
    block_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)


class CatalogLicense(Base):
    """License terms attached to a token on chain (``LicenseTermsAttached``, with the flags of its
    ``LicenseTermsPublished`` terms), followed from the index: what the Explore license filter reads.
    Terms are never detached on chain, so a row stays until a reorg drops its event."""

    __tablename__ = "catalog_licenses"
    __table_args__ = (Index("ix_catalog_licenses_token", "chain_id", "collection", "token_id"),
                      Index("ix_catalog_licenses_event", "chain_id", "event_id"))

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    collection: Mapped[str] = mapped_column(String(42))
    token_id: Mapped[str] = mapped_column(String(80))
    terms_hash: Mapped[str] = mapped_column(String(66))
    commercial: Mapped[bool] = mapped_column(Boolean)
    derivatives: Mapped[bool] = mapped_column(Boolean)
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)


class CatalogSyncRow(Base):
    """How far the catalogue has followed the index, per chain (the last ``chain_events.id``)."""

    __tablename__ = "catalog_sync"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MarketOrder(Base):
    """A wallet-signed order accepted by the API (verified on receipt)."""

    __tablename__ = "market_orders"

    order_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    chain_id: Mapped[int] = mapped_column(Integer, index=True)
    side: Mapped[str] = mapped_column(String(8))
    signer: Mapped[str] = mapped_column(String(42), index=True)
    token: Mapped[str] = mapped_column(String(42), index=True)
    token_id: Mapped[str] = mapped_column(String(80))
    standard: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[str] = mapped_column(String(80))
    unit_price: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(42))
    start: Mapped[int] = mapped_column(Integer)
    expiry: Mapped[int] = mapped_column(Integer)
    salt: Mapped[str] = mapped_column(String(80))
    counter: Mapped[str] = mapped_column(String(80))
    holding_epoch: Mapped[str] = mapped_column(String(80), default="0", server_default="0")
    """Listings: the token's holding epoch they are bound to (they die when it changes)."""
    signature: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_market_orders_token_book", "chain_id", "token", "token_id", "status"),)


class BreakerDecisionRow(Base):
    """Every circuit-breaker decision with its reason (the operators' audit trail)."""

    __tablename__ = "breaker_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    collection: Mapped[str] = mapped_column(String(42), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    price: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    halt_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    account: Mapped[str | None] = mapped_column(String(42), nullable=True)
    """The order's signer (order decisions) or the operator who lifted a halt."""
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A refusal that counts toward a halt (api.breaker.Decision.counts)."""


class CollectionPolicyRow(Base):
    """Per-collection settings operators set: the breaker policy and the jurisdiction policy."""

    __tablename__ = "collection_policies"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    collection: Mapped[str] = mapped_column(String(42), primary_key=True)
    breaker: Mapped[str] = mapped_column(Text)
    """JSON of api.breaker.BreakerPolicy fields."""
    secondary_sales: Mapped[bool] = mapped_column(default=True)
    gift_holding_s: Mapped[int] = mapped_column(Integer, default=0)
    identity_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A copy of the JSON's ``identity_required`` that SQL can filter on (the Explore filter)."""
    halted_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MarketSyncRow(Base):
    """How far the order book and the fill breaker have followed the index, per chain: the last
    ``chain_events.id`` they applied (api/market_sync.py)."""

    __tablename__ = "market_sync"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoleGrant(Base):
    """A role granted at run time by an admin (``/admin/roles``), never deleted: a revocation sets
    ``revoked_*``, so the table is the audit trail of who granted and revoked what to whom."""

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)
    """A DID, or a checksummed address (then every DID of that wallet holds the role)."""
    role: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
