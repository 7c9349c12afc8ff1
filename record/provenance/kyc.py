"""The creator's identity at the time of a registration (pure): the IdentityRegistry's events in,
the KYC status then out, with the events that determine it (the bundle's evidence).

The registry's rules (contracts/compliance/IdentityRegistry.sol): ``IdentityRegistered`` and
``IdentityUpdated`` write a record (level, country, expiry) and lift a revocation;
``IdentityRevoked`` revokes it (the record is kept); an account is verified when it has a record,
it is not revoked and ``block.timestamp < expiresAt``.

Status values: ``verified``, ``expired`` (the record's expiry was not after the registration's
block time), ``revoked``, ``none`` (no identity event for the account at or before the
registration).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

IDENTITY_CONTRACT = "IdentityRegistry"
RECORD_EVENTS = ("IdentityRegistered", "IdentityUpdated")
REVOKE_EVENT = "IdentityRevoked"
IDENTITY_EVENTS = (*RECORD_EVENTS, REVOKE_EVENT)


def _args(row: Mapping[str, Any]) -> dict[str, Any]:
    args = row["args"]
    return dict(json.loads(args) if isinstance(args, str) else args)


def country_code(value: Any) -> str | None:
    """bytes2 as the index stores it (``0x4445``) -> ``DE``; None when it is not two letters."""
    text = str(value or "")
    if not text.startswith("0x") or len(text) != 6:
        return None
    try:
        code = bytes.fromhex(text[2:]).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return code if code.isalpha() else None


def _position(row: Mapping[str, Any]) -> tuple[int, int]:
    return int(row["block_number"]), int(row["log_index"])


def identity_registry(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The one registry that emitted the identity events among ``rows`` (None: there are none).
    Raises ValueError naming them when more than one contract did: KYC evidence counts only from
    one registry, and which one must then be said."""
    emitters = sorted({str(r["address"]).lower() for r in rows if r["event"] in IDENTITY_EVENTS})
    if len(emitters) > 1:
        raise ValueError(f"identity events come from more than one contract: {', '.join(emitters)}")
    return emitters[0] if emitters else None


def latest_registry(rows: Sequence[Mapping[str, Any]], account: str, at: tuple[int, int]) -> str | None:
    """The registry of ``account``'s latest identity event at or before ``at`` (None: no event),
    for callers that read identity events of several registries."""
    mine = [r for r in rows if r["event"] in IDENTITY_EVENTS and _position(r) <= at
            and str(_args(r).get("account", "")).lower() == account.lower()]
    return str(max(mine, key=_position)["address"]).lower() if mine else None


def identity_evidence(rows: Sequence[Mapping[str, Any]], account: str, at: tuple[int, int],
                      registry: str | None = None) -> list[Mapping[str, Any]]:
    """The identity events that determine ``account``'s status at position ``at`` (block, log index)
    on one chain: the last record event at or before it, and the revocation after that record
    when there is one; or, with no record, nothing. Only events of ``registry`` count (default:
    the one registry among ``rows``; ValueError when there are several)."""
    registry = (registry or identity_registry(rows) or "").lower()
    mine = sorted((r for r in rows if r["event"] in IDENTITY_EVENTS
                   and str(r["address"]).lower() == registry
                   and str(_args(r).get("account", "")).lower() == account.lower()
                   and _position(r) <= at), key=_position)
    record_at = max((i for i, r in enumerate(mine) if r["event"] in RECORD_EVENTS), default=None)
    if record_at is None:
        return []
    record = mine[record_at]
    revoked = [r for r in mine[record_at + 1:] if r["event"] == REVOKE_EVENT]
    return [record, *revoked[:1]]


def kyc_status(rows: Sequence[Mapping[str, Any]], account: str, at: tuple[int, int],
               at_time: int | None, registry: str | None = None) -> dict[str, Any]:
    """``account``'s KYC status at position ``at`` (block, log index) whose block time is
    ``at_time``, from identity event rows of one chain (any order; rows of other accounts, and
    rows after ``at``, are ignored). ``block``/``log_index``/``tx_hash`` name the record event;
    ``revoked_at`` the revocation's block. ``registry``: as for ``identity_evidence``."""
    evidence = identity_evidence(rows, account, at, registry)
    if not evidence:
        return {"status": "none", "level": None, "country": None, "expires_at": None, "registry": None,
                "block": None, "log_index": None, "tx_hash": None, "revoked_at": None}
    record = evidence[0]
    args = _args(record)
    expires_at = int(args["expiresAt"])
    revocation = evidence[1] if len(evidence) > 1 else None
    if revocation is not None:
        status = "revoked"
    elif at_time is not None and at_time >= expires_at:
        status = "expired"
    else:
        status = "verified"
    return {"status": status, "level": int(args["level"]), "country": country_code(args.get("country")),
            "expires_at": expires_at, "registry": record["address"], "block": int(record["block_number"]),
            "log_index": int(record["log_index"]), "tx_hash": record["tx_hash"],
            "revoked_at": None if revocation is None else int(revocation["block_number"])}
