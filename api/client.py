"""A Python client of the Chainright API that acts as a user: it logs in with the user's wallet
(SIWE), uploads works, asks for unsigned transactions and has the wallet sign and send them.

Used by ``chainright wallet``/``mint`` and the demo; the wallet's key never leaves the process.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from api.errors import ApiError

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class ClientError(ApiError):
    """Raised when the API answers with a problem (its detail is kept) or cannot be reached."""

    status = 502
    title = "API call failed"


class ProgressReader:
    """A binary file that reports how much of it was read (httpx sends a file object in 64 KiB
    pieces; its size comes from ``fileno``, so the request has a Content-Length)."""

    def __init__(self, source: BinaryIO, progress: Callable[[int, int], None] | None) -> None:
        self.source = source
        self.progress = progress
        self.total = os.fstat(source.fileno()).st_size
        self.sent = 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.sent += len(data)
        if self.progress is not None and data:
            self.progress(self.sent, self.total)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self.source.seek(offset, whence)
        self.sent = position  # a retry starts the file again
        return position

    def tell(self) -> int:
        return self.source.tell()

    def fileno(self) -> int:
        return self.source.fileno()


class ChainrightClient:
    def __init__(self, base_url: str, wallet: Any, chain_id: int, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self.wallet = wallet
        self.chain_id = chain_id
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if method.upper() in STATE_CHANGING:
            headers.setdefault("Idempotency-Key", uuid.uuid4().hex)  # one per call; its retry reuses it
        try:
            try:
                response = self.http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError:
                # The call may have run (e.g. a read timeout): retried once with the same key, the
                # API replays the first answer instead of running it twice.
                response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"the API at {self.http.base_url} does not answer ({type(exc).__name__}); "
                              "is it running ('make up')?") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ClientError(f"{method} {path} answered {response.status_code}: {detail}",
                              status_code=response.status_code)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def login(self, chain_id: int | None = None) -> dict[str, Any]:
        """Sign-In with Ethereum: the API's message (for ``chain_id``, by default the client's chain),
        signed by the wallet."""
        start = self._call("POST", "/auth/siwe/nonce", json={"address": self.wallet.address,
                                                               "chain_id": chain_id or self.chain_id})
        session = self._call("POST", "/auth/siwe/login", json={
            "message": start["message"], "signature": self.wallet.sign_text(start["message"])})
        self.token = session["token"]
        return dict(session)

    def did_login(self, proof_type: Any = "EthereumEip712Signature2021") -> dict[str, Any]:
        """DID login: a did:pkh presentation over the API's challenge, signed by the wallet."""
        from datetime import UTC, datetime

        from did.credentials import build_presentation
        from did.holder import sign_presentation

        holder = f"did:pkh:eip155:{self.chain_id}:{self.wallet.address}"
        challenge = self._call("POST", "/auth/did/challenge")
        presentation = sign_presentation(build_presentation(holder), self.wallet.account, proof_type,
                                         challenge["challenge"], challenge["domain"], datetime.now(UTC))
        session = self._call("POST", "/auth/did/login", json={"presentation": presentation})
        self.token = session["token"]
        return dict(session)

    def logout(self) -> None:
        """End this session on the API (its token stops working)."""
        self._call("POST", "/auth/logout")
        self.token = None

    def me(self) -> dict[str, Any]:
        return dict(self._call("GET", "/auth/me"))

    def kyc_document(self, app_id: str, path: Path) -> dict[str, Any]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ClientError(f"no file at {path}") from None
        return dict(self._call("POST", f"/kyc/applications/{app_id}/document",
                               files={"file": (path.name, data)}))

    def kyc_queue(self, state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if state:
            params["state"] = state
        return list(self._call("GET", "/kyc/applications", params=params))

    def kyc_application(self, app_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/kyc/applications/{app_id}"))

    def kyc_approve(self, app_id: str, level: int, expires_at: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"level": level}
        if expires_at:
            body["expires_at"] = expires_at
        return dict(self._call("POST", f"/kyc/applications/{app_id}/approve", json=body))

    def kyc_reject(self, app_id: str, reason: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/kyc/applications/{app_id}/reject", json={"reason": reason}))

    def kyc_revoke(self, app_id: str, reason: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/kyc/applications/{app_id}/revoke", json={"reason": reason}))

    def kyc_apply(self, application: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/kyc/applications", json=application))

    def kyc_status(self) -> dict[str, Any]:
        return dict(self._call("GET", "/kyc/status"))

    def upload(self, path: Path, progress: Callable[[int, int], None] | None = None, *,
               title: str | None = None, description: str | None = None,
               tags: list[str] | None = None) -> dict[str, Any]:
        """POST /assets with the file streamed from disk in 64 KiB pieces (never read whole);
        ``progress(sent, total)`` is called as the pieces go out. ``title``, ``description`` and
        ``tags`` describe the work for the catalogue (sent before the file)."""
        try:
            source = path.open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ClientError(f"no file at {path}") from None
        fields: dict[str, Any] = {"tags": list(tags or [])}
        if title is not None:
            fields["title"] = title
        if description is not None:
            fields["description"] = description
        with source:
            reader = ProgressReader(source, progress)
            return dict(self._call("POST", "/assets", files={"file": (path.name, reader)}, data=fields))

    def collection_tx(self, name: str, symbol: str, royalty_receiver: str | None, royalty_bps: int,
                      standard: str = "erc721") -> dict[str, Any]:
        return dict(self._call("POST", "/collections/tx", json={
            "chain_id": self.chain_id, "name": name, "symbol": symbol,
            "royalty_receiver": royalty_receiver, "royalty_bps": royalty_bps, "standard": standard}))

    def split_tx(self, rights_holder: str, issuer: str, channel: str) -> dict[str, Any]:
        return dict(self._call("POST", "/splits/tx", json={
            "chain_id": self.chain_id, "rights_holder": rights_holder, "issuer": issuer,
            "channel": channel}))

    def mint_tx(self, cid: str, collection: str, quantity: int = 1, standard: str | None = None
                ) -> dict[str, Any]:
        """``standard`` ("erc721"/"erc1155"): the API refuses a collection of the other kind."""
        return dict(self._call("POST", f"/assets/{cid}/mint-tx", json={
            "chain_id": self.chain_id, "collection": collection, "quantity": quantity,
            "standard": standard}))

    def license_tx(self, collection: str, token_ids: list[int], template: str, fee_wei: int = 0
                   ) -> dict[str, Any]:
        """``POST /licenses/tx``: the publish transaction (or None) and one attach per token."""
        return dict(self._call("POST", "/licenses/tx", json={
            "chain_id": self.chain_id, "collection": collection, "token_ids": token_ids,
            "template": template, "fee_wei": fee_wei}))

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params or None)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._call("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._call("PATCH", path, json=body, **kwargs)

    def submit_order(self, order: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/market/orders", json=order))

    def fill_tx(self, order_hash: str, amount: int = 1) -> dict[str, Any]:
        return dict(self._call("POST", f"/market/orders/{order_hash}/fill-tx", json={"amount": amount}))

    def submit_orders(self, orders: list[dict[str, Any]]) -> dict[str, Any]:
        """``POST /market/orders/batch``: per-order results (``created``, ``refused``, ``results``)."""
        return dict(self._call("POST", "/market/orders/batch", json={"orders": orders}))

    def fill_tx_batch(self, order_hashes: list[str], amounts: list[int] | None = None) -> dict[str, Any]:
        """``POST /market/fill-tx/batch``: one unsigned fillListings transaction buying them all."""
        items = [{"order_hash": h, "amount": a}
                 for h, a in zip(order_hashes, amounts or [1] * len(order_hashes), strict=True)]
        return dict(self._call("POST", "/market/fill-tx/batch", json={"items": items}))

    # ---------------------------------------------------------------- trading (auctions, offers,
    # licenses, rentals, gifts, escrow): each returns the API's answer; ``*_tx`` answers are unsigned
    # transactions (or carry them) for the wallet to sign and send.

    def auctions(self, status: str = "live", token: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"chain_id": self.chain_id, "status": status}
        if token:
            params["token"] = token
        return list(self._call("GET", "/auctions", params=params))

    def auction(self, auction_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/auctions/{self.chain_id}/{auction_id}"))

    def auction_create_tx(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/auctions/tx", json={"chain_id": self.chain_id, **body}))

    def auction_tx(self, auction_id: int, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """``action``: bid (body ``amount_wei``), settle, cancel, unwind, claim-lot."""
        path = f"/auctions/{self.chain_id}/{auction_id}/{action}-tx"
        return dict(self._call("POST", path, json=body or {}))

    def offer_prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/offers/prepare", json={"chain_id": self.chain_id, **body}))

    def make_offer(self, fields: dict[str, Any], signature: str) -> dict[str, Any]:
        return dict(self._call("POST", "/offers", json={**fields, "signature": signature}))

    def offers(self, **filters: Any) -> list[dict[str, Any]]:
        params = {"chain_id": self.chain_id, **{k: v for k, v in filters.items() if v is not None}}
        return list(self._call("GET", "/offers", params=params))

    def offer_accept_tx(self, order_hash: str, amount: int = 1) -> dict[str, Any]:
        return dict(self._call("POST", f"/offers/{order_hash}/accept-tx", json={"amount": amount}))

    def offer_cancel(self, order_hash: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/offers/{order_hash}/cancel"))

    def weth(self, account: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/offers/weth/{self.chain_id}/{account}"))

    def weth_tx(self, action: str, amount_wei: int) -> dict[str, Any]:
        """``action``: deposit (wrap ETH) or withdraw (unwrap)."""
        return dict(self._call("POST", f"/offers/weth/{action}-tx",
                               json={"chain_id": self.chain_id, "amount_wei": amount_wei}))

    def licenses_offered(self, collection: str, token_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/licenses/offered/{self.chain_id}/{collection}/{token_id}"))

    def license_buy_tx(self, collection: str, token_id: int, terms_hash: str) -> dict[str, Any]:
        return dict(self._call("POST", "/licenses/buy-tx", json={
            "chain_id": self.chain_id, "collection": collection, "token_id": token_id,
            "terms_hash": terms_hash}))

    def licenses(self, licensee: str, include_inactive: bool = False) -> list[dict[str, Any]]:
        return list(self._call("GET", "/licenses", params={
            "chain_id": self.chain_id, "licensee": licensee, "include_inactive": include_inactive}))

    def rent_tx(self, collection: str, token_id: int, user: str | None, until: str | None) -> dict[str, Any]:
        return dict(self._call("POST", "/rentals/tx", json={
            "chain_id": self.chain_id, "collection": collection, "token_id": token_id, "user": user,
            "until": until}))

    def rental(self, collection: str, token_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/rentals/{self.chain_id}/{collection}/{token_id}"))

    def gift_tx(self, token: str, token_id: int, to: str, standard: str = "erc721", quantity: int = 1
                ) -> dict[str, Any]:
        return dict(self._call("POST", "/market/gift-tx", json={
            "chain_id": self.chain_id, "token": token, "token_id": token_id, "to": to, "standard": standard,
            "quantity": quantity}))

    def escrow_create_tx(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/escrows/tx", json={"chain_id": self.chain_id, **body}))

    def escrow(self, escrow_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/escrows/{self.chain_id}/{escrow_id}"))

    def escrows(self, party: str) -> list[dict[str, Any]]:
        return list(self._call("GET", "/escrows", params={"chain_id": self.chain_id, "party": party}))

    def escrow_tx(self, escrow_id: int, action: str, index: int | None = None,
                  body: dict[str, Any] | None = None) -> dict[str, Any]:
        """``action``: accept-terms (no index); deliver (body cid), accept, dispute, arbitrate (body
        seller_bps), settle-lapsed, reclaim, claim (each with the milestone's index)."""
        path = f"/escrows/{self.chain_id}/{escrow_id}"
        if index is not None:
            path += f"/milestones/{index}"
        return dict(self._call("POST", f"{path}/{action}-tx", json=body or {}))
