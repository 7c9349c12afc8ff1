"""ERC-7730 clear-signing descriptors of every EIP-712 message the platform asks a wallet to sign
(marketplace listings and offers; the DID sign-in presentation), committed in
``api/web/clear-signing/`` and served at ``/clear-signing/<file>``: a wallet that supports ERC-7730
shows the same words the page states before the prompt. The marketplace descriptor is served with
``context.eip712.deployments`` filled in from the chains this platform serves. A unit test checks
that each descriptor names every field of the types the code signs, so neither can drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import GatewayDep
from api.errors import NotFoundError

router = APIRouter(include_in_schema=False)
DESCRIPTORS = Path(__file__).parent / "clear-signing"
FILES = {p.name: p for p in sorted(DESCRIPTORS.glob("eip712-*.json"))}


def descriptor(name: str) -> dict[str, Any]:
    """The committed descriptor ``name`` (``eip712-chainright-marketplace.json``, ...)."""
    path = FILES.get(name)
    if path is None:
        raise NotFoundError(f"no clear-signing descriptor {name}; there are: {', '.join(FILES)}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@router.get("/clear-signing/{name}")
def serve(name: str, gateway: GatewayDep) -> JSONResponse:
    data = descriptor(name)
    eip712 = data["context"]["eip712"]
    if "deployments" in eip712:
        deployments = []
        for spec in gateway.specs():
            try:
                address = gateway.address(spec.chain_id, "Marketplace")
            except Exception:  # a chain without a marketplace deployed: no deployment to name
                address = None
            if address is not None:
                deployments.append({"chainId": spec.chain_id, "address": address})
        eip712["deployments"] = deployments
    return JSONResponse(data, headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"})
