"""The API's problem documents explain a revert with the same sentence as the console command."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from fastapi import APIRouter
from fastapi.testclient import TestClient

from api import create_app
from api.db import Database
from api.settings import ApiSettings
from chain.errors import TransactionRevertedError

pytestmark = pytest.mark.unit


def test_reverted_problem_detail_is_the_errors_sentence(api_settings: ApiSettings, database: Database,
                                                        artifacts: Any) -> None:
    from eth_utils.abi import function_abi_to_4byte_selector

    item = next(i for i in artifacts.get("Marketplace").abi
                if i["type"] == "error" and i["name"] == "PaymentValueMismatch")
    data = function_abi_to_4byte_selector(item) + abi_encode(["uint256", "uint256"], [10**18, 5 * 10**17])
    app = create_app(api_settings, db=database)
    router = APIRouter()

    @router.get("/_test/revert")
    def revert() -> None:
        raise TransactionRevertedError("reverted: PaymentValueMismatch(...)", tx_hash="0xfeed",
                                       error_name="PaymentValueMismatch", revert_data=data)

    app.include_router(router)
    response = TestClient(app).get("/_test/revert")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "/problems/reverted" and body["error"] == "PaymentValueMismatch"
    assert body["detail"] == ("the price is 1 ETH (1000000000000000000 wei) but 0.5 ETH (500000000000000000 wei) "
                              "was sent; send exactly the price (transaction 0xfeed)")
