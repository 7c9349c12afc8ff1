"""Browse and search, the pure core (api/browse.py): tags normalized and bounded, a search's
parameters read or refused, LIKE wildcards typed by a user escaped, wei sortable as text, cursors
that cannot be forged into another sort or a non-key, related works ranked with their reason."""

from __future__ import annotations

import random

import pytest

from api.browse import (
    MAX_TAGS,
    NO_PRICE_ASC,
    NO_PRICE_DESC,
    BrowseError,
    Cursor,
    decode_cursor,
    encode_cursor,
    like_pattern,
    make_search,
    normalize_tag,
    normalize_tags,
    pad_wei,
    rank_related,
    search_words,
    sort_key,
    split_in_words,
    terms_in_words,
)

pytestmark = pytest.mark.unit

A, B, C = ("0x" + c * 40 for c in "abc")


@pytest.mark.parametrize(("raw", "tag"), [
    ("Landscape", "landscape"), ("  #Oil Painting ", "oil-painting"), ("oil_painting", "oil-painting"),
    ("\uff21\uff22\uff23", "abc"), ("Straße", "strasse"), ("a - b", "a-b"), ("水墨", "水墨"), ("#3d", "3d"),
])
def test_tags_are_normalized_so_spellings_of_one_tag_meet(raw, tag):
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "   ", "#", "a%b", "a_%", "x'y", "<b>", "a/b", "a" * 33, "tag;drop"])
def test_a_tag_with_wildcards_markup_or_too_long_is_refused(raw):
    with pytest.raises(BrowseError):
        normalize_tag(raw)


def test_tags_come_repeated_or_comma_separated_deduplicated_and_bounded():
    assert normalize_tags(["Sea, sky", "SEA", "#sky ,  ", "night"]) == ["sea", "sky", "night"]
    assert len(normalize_tags([f"t{i}" for i in range(MAX_TAGS)])) == MAX_TAGS
    with pytest.raises(BrowseError, match="at most"):
        normalize_tags([",".join(f"t{i}" for i in range(MAX_TAGS + 1))])


def test_search_words_are_case_folded_deduplicated_and_bounded():
    assert search_words("  Blue  SEA blue ") == ["blue", "sea"]
    assert search_words(None) == [] and search_words("   ") == []
    with pytest.raises(BrowseError):
        search_words(" ".join(f"w{i}" for i in range(9)))


@pytest.mark.parametrize(("word", "pattern"), [
    ("%", "%\\%%"), ("_", "%\\_%"), ("a%b_c", "%a\\%b\\_c%"), ("back\\slash", "%back\\\\slash%"), ("sea", "%sea%"),
])
def test_like_wildcards_a_user_types_match_only_themselves(word, pattern):
    assert like_pattern(word) == pattern


def test_padded_wei_sorts_as_text_exactly_as_numbers_do():
    rng = random.Random(7)  # noqa: S311 - reproducible values, not secrets
    values = [0, 1, 9, 10, 10**18 - 1, 10**18, 2**63, 2**64 + 1, 2**256 - 1]
    values += [rng.randrange(2**256) for _ in range(200)] + [rng.randrange(10**20) for _ in range(200)]
    assert sorted(values) == sorted(values, key=pad_wei)
    assert all(len(pad_wei(v)) == 78 for v in values)
    assert NO_PRICE_DESC < pad_wei(0) and pad_wei(2**256 - 1) < NO_PRICE_ASC
    for bad in (-1, 2**256):
        with pytest.raises(BrowseError):
            pad_wei(bad)


def test_a_search_is_read_or_refused_whole():
    s = make_search(q="Blue sea", tags=["#Sea"], media_type="Image", min_price=1, max_price=10, sort="price_asc")
    assert s.words == ("blue", "sea") and s.tags == ("sea",) and s.media_type == "image" and s.needs_price
    assert not make_search().needs_price
    assert make_search(listed=True).needs_price
    for kwargs in ({"sort": "random"}, {"min_price": 5, "max_price": 4}, {"media_type": "image/%"},
                   {"media_type": "a b"}, {"limit": 0}, {"limit": 101}, {"max_price": 2**256},
                   {"tags": ["a%"]}, {"cursor": "not-a-cursor"}):
        with pytest.raises(BrowseError):
            make_search(**kwargs)


def test_a_cursor_round_trips_and_a_forged_or_foreign_one_is_refused():
    c = Cursor("price_desc", pad_wei(5 * 10**17), 42)
    assert decode_cursor(encode_cursor(c), "price_desc") == c
    last_unlisted = Cursor("price_asc", NO_PRICE_ASC, 3)
    assert decode_cursor(encode_cursor(last_unlisted), "price_asc") == last_unlisted
    with pytest.raises(BrowseError, match="sorted by price_desc"):
        decode_cursor(encode_cursor(c), "newest")
    import base64
    import json

    def forged(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    for value in (["newest", "1 OR 1=1", 3], ["newest", "12", "3"], ["newest", 12, 3], ["newest", "1"],
                  {"sort": "newest"}, ["newest", "9" * 80, 1]):
        with pytest.raises(BrowseError):
            decode_cursor(forged(value), "newest")
    for text in ("%%%", "", "e30"):
        with pytest.raises(BrowseError):
            decode_cursor(text, "newest")


def test_unlisted_works_sort_after_every_price_both_ways():
    assert sort_key("price_asc", None, None) == NO_PRICE_ASC > sort_key("price_asc", None, pad_wei(2**255))
    assert sort_key("price_desc", None, None) == NO_PRICE_DESC < sort_key("price_desc", None, pad_wei(0))


def test_related_works_rank_shared_buyers_above_a_shared_tag_and_say_why():
    me = (31337, A, "1")
    ranked = rank_related(me, {
        (31337, A, "2"): {"sea"},
        (31337, B, "7"): {"sea", "night"},
        me: {"sea", "night"},
        (31337, C, "9"): set(),
    }, {
        (31337, C, "3"): {A},
        (31337, B, "7"): {A, B},
        me: {A, B},
    })
    assert [r.key for r in ranked] == [(31337, B, "7"), (31337, C, "3"), (31337, A, "2")]
    top = ranked[0]
    assert top.score == 2 * 1.0 + 2 * 2.0 and top.shared_tags == ("night", "sea")
    assert "2 shared tags (night, sea)" in top.reason and "bought by 2 collectors" in top.reason
    assert ranked[1].reason == "bought by 1 collector who bought this one too"
    assert ranked[2].reason == "1 shared tag (sea)"
    assert me not in [r.key for r in ranked]
    assert len(rank_related(me, {(1, A, str(i)): {"x"} for i in range(30)}, {}, limit=5)) == 5


def test_royalty_and_license_terms_read_as_words():
    assert split_in_words(500, [(A, 3000), (B, 4000), (C, 3000)]) == \
        f"5% royalty on every sale, split 30% to {A}, 40% to {B}, 30% to {C}"
    assert split_in_words(250, []) == "2.5% royalty on every sale"
    terms = [True, True, True, True, False, 1000, 0, "100", ["0x4652", "0x4445"], "bafy"]
    assert terms_in_words(terms, "0.0000000000000001 ETH (100 wei)") == (
        "commercial use; derivatives allowed (10% of their revenue to the licensor); credit the creator; "
        "transferable; irrevocable; perpetual; in FR, DE; fee 0.0000000000000001 ETH (100 wei)")
    personal = [False, False, True, False, True, 0, 365 * 86_400, 0, [], "bafy"]
    assert terms_in_words(personal, "0 ETH (0 wei)").startswith(
        "non-commercial use; no derivatives; credit the creator; not transferable; revocable by the licensor; "
        "for 365 days; worldwide")


def test_currency_license_and_jurisdiction_are_read_or_refused_naming_the_parameter():
    weth = "0x" + "ab" * 20
    s = make_search(currency="eth", license="derivatives", jurisdiction="no_resale")
    assert s.currency == "0x" + "00" * 20 and s.needs_price
    assert (s.license, s.jurisdiction) == ("derivatives", "no_resale")
    assert make_search(currency=weth).currency == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"  # checksummed
    for kwargs, named in (({"currency": "EUR"}, "currency"), ({"currency": "0x1234"}, "currency"),
                          ({"currency": "0x" + "aB" * 20}, "currency"),  # mixed case, wrong checksum
                          ({"license": "free"}, "license"), ({"jurisdiction": "lawless"}, "jurisdiction")):
        with pytest.raises(BrowseError, match=named):
            make_search(**kwargs)
