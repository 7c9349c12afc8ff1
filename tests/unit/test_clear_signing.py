"""The ERC-7730 descriptors (api/web/clear-signing/) describe exactly the EIP-712 messages the code
signs: every field of every type, nothing else, under the encodeType key a wallet looks up. A field
added to an order or to the sign-in presentation without its words fails here."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.settings import ApiSettings
from api.web.clearsign import FILES, descriptor
from chain.devaccounts import dev_account
from chain.orders import ETH, MarketDomain, Order, OrderSide, TokenStandard, typed_data
from did.credentials import build_presentation
from did.holder import EIP712_PROOF, prepare_presentation_proof

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
SIGNER = dev_account(1)


def _order(side: OrderSide) -> dict[str, Any]:
    order = Order(side, SIGNER.address, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 7, TokenStandard.ERC721,
                  1, 10**18, ETH, 1, 2, 3, 0, 0)
    return typed_data(order, MarketDomain(31337, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"))


def _presentation() -> dict[str, Any]:
    """The typed data a wallet signs to log in with a DID presentation, built as api.client does."""
    prepared = prepare_presentation_proof(build_presentation(f"did:pkh:eip155:31337:{SIGNER.address}"),
                                          proof_type=EIP712_PROOF, challenge="c", domain="localhost:8000",
                                          created=datetime.now(UTC))
    data: dict[str, Any] = prepared.signing_input  # type: ignore[assignment]
    return data


SIGNED = {"Listing": (_order(OrderSide.LISTING), "eip712-chainright-marketplace.json"),
          "Offer": (_order(OrderSide.OFFER), "eip712-chainright-marketplace.json"),
          "sign-in presentation": (_presentation(), "eip712-chainright-sign-in.json")}


def encode_type(types: dict[str, list[dict[str, str]]], primary: str) -> str:
    """EIP-712 encodeType: the primary type, then every type it references, sorted by name."""
    seen: set[str] = set()

    def walk(name: str) -> None:
        for member in types[name]:
            base = member["type"].removesuffix("[]")
            if base in types and base != primary and base not in seen:
                seen.add(base)
                walk(base)

    walk(primary)
    one = lambda n: f"{n}({','.join(m['type'] + ' ' + m['name'] for m in types[n])})"  # noqa: E731
    return one(primary) + "".join(one(n) for n in sorted(seen))


def leaf_paths(types: dict[str, list[dict[str, str]]], name: str, prefix: str = "") -> set[str]:
    """Every value a signer signs, as ERC-7730 paths (``a.b`` into structs, ``a.[]`` for arrays)."""
    out: set[str] = set()
    for member in types[name]:
        path = prefix + member["name"]
        base = member["type"].removesuffix("[]")
        if base in types:
            out |= leaf_paths(types, base, path + ".")
        else:
            out.add(path + ".[]" if member["type"].endswith("[]") else path)
    return out


@pytest.mark.parametrize("what", list(SIGNED))
def test_the_descriptor_names_every_field_of_what_we_sign(what):
    data, file = SIGNED[what]
    desc = descriptor(file)
    types, primary = data["types"], data["primaryType"]
    schemas = {s["primaryType"]: s["types"] for s in desc["context"]["eip712"]["schemas"]}
    assert schemas.get(primary) == types, f"the descriptor's schema of {primary} is not the one signed"
    key = encode_type(types, primary)
    formats = desc["display"]["formats"]
    assert key in formats, f"no display format under {key!r}; there are {list(formats)}"
    shown = [f["path"] for f in formats[key]["fields"]]
    assert len(shown) == len(set(shown))
    assert set(shown) | set(formats[key].get("excluded", [])) == leaf_paths(types, primary)
    assert all(f["label"].strip() for f in formats[key]["fields"]) and formats[key]["intent"].strip()
    assert set(formats[key].get("required", [])) <= set(shown)


def test_the_descriptor_binds_the_marketplace_domain():
    domain = descriptor("eip712-chainright-marketplace.json")["context"]["eip712"]["domain"]
    signed = _order(OrderSide.LISTING)["domain"]
    assert domain == {"name": signed["name"], "version": signed["version"]}


def test_the_page_script_signs_the_listing_type_the_descriptor_describes():
    """The web page keeps its own copy of the Listing type (it signs in the browser): same fields."""
    script = (ROOT / "api" / "web" / "js" / "app.js").read_text(encoding="utf-8")
    block = script[script.index("const LISTING_TYPES"):]
    block = block[:block.index("};")]
    fields = [{"name": n, "type": t} for n, t in re.findall(r"name: '(\w+)', type: '(\w+)'", block)]
    assert fields == _order(OrderSide.LISTING)["types"]["Listing"]


def test_the_descriptors_are_served_at_a_stable_address(tmp_path):
    client = TestClient(create_app(ApiSettings(environment="test", data_dir=tmp_path)), raise_server_exceptions=False)
    assert sorted(FILES) == ["eip712-chainright-marketplace.json", "eip712-chainright-sign-in.json"]
    for name in FILES:
        r = client.get(f"/clear-signing/{name}")
        assert r.status_code == 200 and r.json()["display"] == descriptor(name)["display"]
    assert client.get("/clear-signing/nope.json").status_code == 404
