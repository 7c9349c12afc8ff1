"""Browse and search, the pure core: tags normalized, a search's words, filters and sort read into
one ``Search``, cursors, wei made sortable as text, license terms in words and related works ranked
(shared tags, then shared buyers). No database, no chain: ``api/works_index.py`` runs the queries."""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from api.types import checksum_address

MAX_TAGS = 10
"""Tags one work may carry."""
MAX_TAG_LENGTH = 32
MAX_WORDS = 8
"""Words one search may hold (each is a LIKE over title, description and file name)."""
WEI_DIGITS = 78
"""Decimal digits of 2**256 - 1: a wei amount left-padded to this many digits sorts as text."""
ZERO_PAD = "0" * WEI_DIGITS

Sort = Literal["newest", "price_asc", "price_desc"]
SORTS: tuple[str, ...] = ("newest", "price_asc", "price_desc")

LicenseKind = Literal["any", "commercial", "personal", "derivatives"]
LICENSE_KINDS: tuple[str, ...] = ("any", "commercial", "personal", "derivatives")
"""A work offers license terms attached on chain: ``any`` terms; ``commercial``: terms that allow
commercial use; ``personal``: terms for non-commercial use only; ``derivatives``: terms that allow
derivative works. A work with several terms matches every kind one of them is."""
Jurisdiction = Literal["open", "no_resale", "verified_only", "holding_period"]
JURISDICTIONS: tuple[str, ...] = ("open", "no_resale", "verified_only", "holding_period")
"""A collection's jurisdiction profile as the platform holds it (its collection policy): ``open``:
no rule (resale allowed, no holding period, no identity required; also a collection without a
policy); ``no_resale``: secondary sales refused; ``verified_only``: only identity-verified wallets
may buy or sell; ``holding_period``: a holding period after a transfer. The last three can hold
together: each matches every collection that has that rule."""
ETH_CURRENCY = "0x" + "00" * 20
"""The order book's currency of ETH (the zero address)."""


class BrowseError(ValueError):
    """Raised when a search, a tag or a cursor cannot be read (the API answers 422 with the message)."""


_TAG_OK = re.compile(r"^[\w-]+$")


def normalize_tag(raw: str) -> str:
    """One tag as stored and searched: NFKC, case-folded, no leading ``#``, inner spaces and
    underscores as ``-``, letters, digits and ``-`` only, at most 32 characters."""
    tag = unicodedata.normalize("NFKC", raw).casefold().strip().lstrip("#").strip()
    tag = re.sub(r"[\s_]+", "-", tag).strip("-")
    tag = re.sub(r"-{2,}", "-", tag)
    if not tag:
        raise BrowseError(f"the tag {raw!r} is empty once normalized")
    if len(tag) > MAX_TAG_LENGTH:
        raise BrowseError(f"the tag {raw!r} is longer than {MAX_TAG_LENGTH} characters")
    if not _TAG_OK.match(tag):
        raise BrowseError(f"the tag {raw!r} may hold letters, digits, spaces and '-' only")
    return tag


def normalize_tags(raw: Iterable[str]) -> list[str]:
    """Tags given as repeated values and/or comma-separated: normalized, duplicates dropped, in
    the order given; more than ``MAX_TAGS`` is refused."""
    tags: list[str] = []
    for value in raw:
        for part in value.split(","):
            if part.strip():
                tag = normalize_tag(part)
                if tag not in tags:
                    tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise BrowseError(f"a work carries at most {MAX_TAGS} tags ({len(tags)} given)")
    return tags


def search_words(text: str | None) -> list[str]:
    """The words of a search, case-folded, each matched as a substring (LIKE wildcards in them are
    escaped by the query)."""
    if not text:
        return []
    words = [w for w in unicodedata.normalize("NFKC", text).casefold().split() if w]
    if len(words) > MAX_WORDS:
        raise BrowseError(f"search with at most {MAX_WORDS} words ({len(words)} given)")
    return list(dict.fromkeys(words))


def like_pattern(word: str) -> str:
    """``%word%`` with ``\\``, ``%`` and ``_`` escaped (the query says ``ESCAPE '\\'``)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def pad_wei(wei: int) -> str:
    """A wei amount as 78 digits: text order is numeric order (both databases compare strings)."""
    if not 0 <= wei < 2**256:
        raise BrowseError(f"{wei} is not a wei amount (0 .. 2**256 - 1)")
    return str(wei).rjust(WEI_DIGITS, "0")


@dataclass(frozen=True)
class Search:
    """What GET /works and ``chainright works search`` ask for."""

    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    """Every tag must be on the work."""
    creator: str | None = None
    media_type: str | None = None
    """``image/png`` exactly, or ``image`` for every ``image/...``."""
    chain_id: int | None = None
    collection: str | None = None
    listed: bool = False
    """Only works with an open listing now."""
    min_price: int | None = None
    max_price: int | None = None
    """With ``currency``, in that currency's smallest unit; without, whatever the cheapest listing's
    currency is (its unit price as signed)."""
    currency: str | None = None
    """Only works with an open listing in this currency (checksummed; ETH is the zero address); the
    price range, the price sort and the card's price then read only those listings."""
    license: LicenseKind | None = None
    jurisdiction: Jurisdiction | None = None
    sort: Sort = "newest"
    limit: int = 20
    cursor: Cursor | None = None

    @property
    def needs_price(self) -> bool:
        return (self.listed or self.min_price is not None or self.max_price is not None
                or self.currency is not None or self.sort != "newest")


def make_search(*, q: str | None = None, tags: Sequence[str] = (), creator: str | None = None,
                media_type: str | None = None, chain_id: int | None = None, collection: str | None = None,
                listed: bool = False, min_price: int | None = None, max_price: int | None = None,
                currency: str | None = None, license: str | None = None, jurisdiction: str | None = None,
                sort: str = "newest", limit: int = 20, cursor: str | None = None) -> Search:
    """Read a search's parameters (already typed by the edge) into a ``Search``, or refuse it."""
    if sort not in SORTS:
        raise BrowseError(f"sort by one of {', '.join(SORTS)} (not {sort!r})")
    if license is not None and license not in LICENSE_KINDS:
        raise BrowseError(f"license: one of {', '.join(LICENSE_KINDS)} (not {license!r})")
    if jurisdiction is not None and jurisdiction not in JURISDICTIONS:
        raise BrowseError(f"jurisdiction: one of {', '.join(JURISDICTIONS)} (not {jurisdiction!r})")
    if min_price is not None and max_price is not None and min_price > max_price:
        raise BrowseError("the minimum price is above the maximum price")
    for price in (min_price, max_price):
        if price is not None:
            pad_wei(price)
    kind = None
    if media_type is not None:
        kind = media_type.strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]*(/[a-z0-9][a-z0-9.+-]*)?", kind):
            raise BrowseError(f"{media_type!r} is not a media type (e.g. image/png, or image)")
    if not 1 <= limit <= 100:
        raise BrowseError("a page holds 1 to 100 works")
    decoded = decode_cursor(cursor, sort) if cursor else None
    return Search(words=tuple(search_words(q)), tags=tuple(normalize_tags(tags)), creator=creator,
                  media_type=kind, chain_id=chain_id, collection=collection, listed=listed,
                  min_price=min_price, max_price=max_price,
                  currency=currency_address(currency) if currency is not None else None,
                  license=license, jurisdiction=jurisdiction,  # type: ignore[arg-type]
                  sort=sort,  # type: ignore[arg-type]
                  limit=limit, cursor=decoded)


def currency_address(text: str) -> str:
    """``ETH`` (any case) as the zero address, or an ERC-20's address checksummed; else refused."""
    value = text.strip()
    if value.upper() == "ETH":
        return ETH_CURRENCY
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise BrowseError(f"currency: ETH or a token's address (0x and 40 hex digits), not {text!r}")
    try:
        return checksum_address(value)
    except ValueError as exc:
        raise BrowseError(f"currency: {exc} ({text!r})") from None


# ---------------------------------------------------------------- cursors


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its sort, the last row's sort key and its id (keyset paging:
    a row added meanwhile neither repeats nor shifts a page)."""

    sort: str
    key: str
    """``newest``: the mint's block time as digits; by price: the padded price ('' for no price)."""
    row_id: int


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.sort, cursor.key, cursor.row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, sort: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        kind, key, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise BrowseError("the cursor is not one this API gave (ask again without it)") from None
    if not (isinstance(kind, str) and isinstance(key, str) and isinstance(row_id, int)) or \
            not re.fullmatch(r"\d{0,79}", key):
        raise BrowseError("the cursor is not one this API gave (ask again without it)")
    if kind != sort:
        raise BrowseError(f"the cursor belongs to a search sorted by {kind}, not {sort}: keep the sort "
                          "while paging")
    return Cursor(kind, key, row_id)


NO_PRICE_ASC = "9" * (WEI_DIGITS + 1)
"""Sort key of an unlisted work when the cheapest come first: after every price."""
NO_PRICE_DESC = ""
"""Sort key of an unlisted work when the dearest come first: after every price."""


def sort_key(sort: str, minted_at: int | None, price_key: str | None) -> str:
    """The key a row sorts by (what its cursor carries); the query orders by the same expression."""
    if sort == "newest":
        return str(minted_at or 0).rjust(20, "0")
    if price_key is None:
        return NO_PRICE_ASC if sort == "price_asc" else NO_PRICE_DESC
    return price_key


# ---------------------------------------------------------------- words for people


def split_in_words(bps: int, recipients: Sequence[tuple[str, int]]) -> str:
    """'5% royalty: 30% to 0xA.., 40% to 0xB.., 30% to 0xC..' (shares of the royalty)."""
    head = f"{bps / 100:g}% royalty on every sale"
    if not recipients:
        return head
    return head + ", split " + ", ".join(f"{share / 100:g}% to {account}" for account, share in recipients)


def terms_in_words(terms: Sequence[Any], fee_text: str) -> str:
    """A license's terms as a sentence, from the ``LicenseTerms`` tuple as indexed (commercial,
    derivatives, attribution, transferable, revocable, share bps, duration s, fee, territories,
    legal text CID)."""
    commercial, derivatives, attribution, transferable, revocable, share, duration, _fee, territories = \
        terms[:9]
    places = []
    for code in territories or []:
        text = code[2:] if isinstance(code, str) and code.startswith("0x") else str(code)
        try:
            places.append(bytes.fromhex(text).decode())
        except ValueError:
            places.append(str(code))
    parts = [
        "commercial use" if commercial else "non-commercial use",
        f"derivatives allowed ({int(share) / 100:g}% of their revenue to the licensor)" if derivatives
        else "no derivatives",
        "credit the creator" if attribution else "no credit required",
        "transferable" if transferable else "not transferable",
        "revocable by the licensor" if revocable else "irrevocable",
        f"for {int(duration) // 86_400} days" if int(duration) else "perpetual",
        ("in " + ", ".join(places)) if places else "worldwide",
    ]
    return "; ".join(parts) + f"; fee {fee_text}"


# ---------------------------------------------------------------- related works

WorkKey = tuple[int, str, str]
"""(chain id, collection, token id)."""

TAG_WEIGHT = 1.0
BUYER_WEIGHT = 2.0
"""A collector who bought both counts twice a shared tag: a purchase says more than a label."""


@dataclass(frozen=True)
class Related:
    key: WorkKey
    score: float
    shared_tags: tuple[str, ...] = ()
    shared_buyers: tuple[str, ...] = ()
    reason: str = ""


@dataclass
class _Tally:
    tags: set[str] = field(default_factory=set)
    buyers: set[str] = field(default_factory=set)


def rank_related(subject: WorkKey, shared_tags: Mapping[WorkKey, Iterable[str]],
                 co_bought: Mapping[WorkKey, Iterable[str]], limit: int = 10) -> list[Related]:
    """Rank other works by what they share with ``subject``: each shared tag counts ``TAG_WEIGHT``,
    each collector who bought both ``BUYER_WEIGHT``; ties by more buyers, then the newest key.
    ``subject`` itself is left out (the caller leaves out the other tokens of its own work: they
    share every tag). Every row says why it is there."""
    tally: dict[WorkKey, _Tally] = {}
    for key, tags in shared_tags.items():
        tally.setdefault(key, _Tally()).tags.update(tags)
    for key, buyers in co_bought.items():
        tally.setdefault(key, _Tally()).buyers.update(buyers)
    tally.pop(subject, None)
    rows = []
    for key, t in tally.items():
        if not t.tags and not t.buyers:
            continue
        score = TAG_WEIGHT * len(t.tags) + BUYER_WEIGHT * len(t.buyers)
        reasons = []
        if t.tags:
            reasons.append(f"{len(t.tags)} shared tag{'s' if len(t.tags) > 1 else ''} "
                           f"({', '.join(sorted(t.tags))})")
        if t.buyers:
            reasons.append(f"bought by {len(t.buyers)} collector{'s' if len(t.buyers) > 1 else ''} who "
                           "bought this one too")
        rows.append(Related(key=key, score=score, shared_tags=tuple(sorted(t.tags)),
                            shared_buyers=tuple(sorted(t.buyers)), reason="; ".join(reasons)))
    rows.sort(key=lambda r: (-r.score, -len(r.shared_buyers), r.key[0], r.key[1], -int(r.key[2])))
    return rows[:limit]
