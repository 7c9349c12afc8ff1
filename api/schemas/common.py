"""Wire models shared by routers: the unsigned transaction every ``*-tx`` route answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UnsignedTx(BaseModel):
    """A transaction for the user's wallet to sign and send (``eth_sendTransaction`` shape)."""

    chain_id: int
    from_: str = Field(alias="from")
    to: str
    data: str
    value: str = "0x0"
    gas: int | None = Field(default=None, description="Estimated gas (simulation passed).")

    model_config = {"populate_by_name": True}
