"""The relayer's EIP-712 message agrees with eth_account's typed-data encoder; transfer ids, wrapped ids
and signatures behave as the contracts expect (the contracts' own digest: test_bridge_contracts.py)."""

from __future__ import annotations

import pytest
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from bridge.errors import BridgeMessageError
from bridge.message import (
    SECP256K1_N,
    BridgeMessage,
    Rights,
    recover_signer,
    sign_digest,
    sorted_signatures,
    split_transfer_id,
    transfer_id,
    wrapped_id,
)
from chain.devaccounts import dev_account

pytestmark = pytest.mark.unit

LOCKBOX = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
BRIDGE = "0x0165878A594ca255338adfa4d48449f69242Eb8F"
COLLECTION = "0x9762f229Fd51C6bc1F82bCcB99897135FE890E73"
ALICE = dev_account(2).address
RIGHTS = Rights("https://gateway.example/ipfs/b" + "q" * 58, bytes([1, 0x55, 0x12, 0x20]) + b"\x07" * 32,
                b"\x01" * 32, dev_account(4).address, 750, keccak(b"terms"), keccak(b"provenance"),
                tuple(sorted((dev_account(5).address, dev_account(6).address), key=lambda a: int(a, 16))),
                (3_000, 7_000))
MESSAGE = BridgeMessage(31337, 31338, LOCKBOX, BRIDGE, transfer_id(31337, LOCKBOX, 5), COLLECTION, 5, ALICE,
                        dev_account(3).address, RIGHTS)


def test_the_digest_is_standard_eip712():
    typed = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"},
                             {"name": "verifyingContract", "type": "address"}],
            "BridgeMessage": [{"name": n, "type": t} for n, t in (
                ("sourceChainId", "uint256"), ("destChainId", "uint256"), ("sourceBridge", "address"),
                ("destBridge", "address"), ("transferId", "uint256"), ("collection", "address"),
                ("tokenId", "uint256"), ("sender", "address"), ("recipient", "address"), ("rights", "Rights"))],
            "Rights": [{"name": n, "type": t} for n, t in (
                ("tokenURI", "string"), ("cid", "bytes"), ("contentHash", "bytes32"),
                ("royaltyReceiver", "address"), ("royaltyBps", "uint96"), ("splitRecipients", "address[]"),
                ("splitBps", "uint16[]"), ("licenseTermsHash", "bytes32"),
                ("provenanceHash", "bytes32"))],
        },
        "primaryType": "BridgeMessage",
        "domain": {"name": "Chainright Bridge", "version": "1", "chainId": 31338, "verifyingContract": BRIDGE},
        "message": {
            "sourceChainId": 31337, "destChainId": 31338, "sourceBridge": LOCKBOX, "destBridge": BRIDGE,
            "transferId": MESSAGE.transfer_id, "collection": COLLECTION, "tokenId": 5, "sender": ALICE,
            "recipient": MESSAGE.recipient,
            "rights": {"tokenURI": RIGHTS.token_uri, "cid": RIGHTS.cid, "contentHash": RIGHTS.content_hash,
                       "royaltyReceiver": RIGHTS.royalty_receiver, "royaltyBps": 750,
                       "splitRecipients": list(RIGHTS.split_recipients), "splitBps": [3_000, 7_000],
                       "licenseTermsHash": RIGHTS.license_terms_hash, "provenanceHash": RIGHTS.provenance_hash},
        },
    }
    signable = encode_typed_data(full_message=typed)
    assert keccak(b"\x19" + signable.version + signable.header + signable.body) == MESSAGE.digest()


def test_every_field_is_bound_by_the_digest():
    from dataclasses import fields, replace

    for f in fields(BridgeMessage):
        value = getattr(MESSAGE, f.name)
        if f.name == "rights":
            for rf in fields(Rights):
                rv = getattr(RIGHTS, rf.name)
                if isinstance(rv, int):
                    other = rv + 1
                elif isinstance(rv, bytes):
                    other = rv[:-1] + bytes([rv[-1] ^ 1])
                elif isinstance(rv, tuple):
                    other = (*rv[:-1], rv[-1] + 1) if isinstance(rv[-1], int) else (dev_account(7).address, *rv[1:])
                else:
                    other = dev_account(7).address if rv.startswith("0x") else rv + "x"
                assert replace(MESSAGE, rights=replace(RIGHTS, **{rf.name: other})).digest() != MESSAGE.digest()
            continue
        other = value + 1 if isinstance(value, int) else dev_account(7).address
        assert replace(MESSAGE, **{f.name: other}).digest() != MESSAGE.digest(), f.name


def test_messages_survive_json():
    assert BridgeMessage.from_json(MESSAGE.to_json()) == MESSAGE


def test_transfer_ids_encode_chain_bridge_and_nonce():
    tid = transfer_id(31337, LOCKBOX, 5)
    assert split_transfer_id(tid) == (31337, LOCKBOX, 5) and tid >> 192 == 31337
    with pytest.raises(BridgeMessageError):
        transfer_id(31337, LOCKBOX, 0)
    with pytest.raises(BridgeMessageError):
        transfer_id(31337, LOCKBOX, 2**32)


def test_wrapped_ids_keep_the_home_token():
    wid = wrapped_id(COLLECTION, 7)
    assert wid >> 96 == int(COLLECTION, 16) and wid & (2**96 - 1) == 7
    with pytest.raises(BridgeMessageError):
        wrapped_id(COLLECTION, 2**96)


def test_signatures_are_low_s_and_high_s_or_malformed_ones_are_refused():
    digest = MESSAGE.digest()
    sig = sign_digest(digest, dev_account(10).key)
    assert recover_signer(digest, sig) == dev_account(10).address
    s = int.from_bytes(sig[32:64], "big")
    assert s <= SECP256K1_N // 2
    flipped = sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    for bad in (flipped, sig[:64], sig[:64] + b"\x05", b"\x00" * 65):
        with pytest.raises(BridgeMessageError):
            recover_signer(digest, bad)


def test_sorted_signatures_order_by_signer_and_drop_repeats():
    digest = MESSAGE.digest()
    keys = [dev_account(i) for i in (12, 10, 11, 10)]
    ordered = sorted_signatures(digest, [sign_digest(digest, k.key) for k in keys])
    addresses = [recover_signer(digest, s) for s in ordered]
    assert addresses == sorted({k.address for k in keys}, key=lambda a: int(a, 16))
