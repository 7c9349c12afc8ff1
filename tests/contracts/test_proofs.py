"""Header hashes and receipt proofs rebuilt from anvil's own blocks and receipts."""

from __future__ import annotations

import pytest
import rlp
from trie import HexaryTrie

from chain.connection import connect
from chain.devaccounts import dev_account
from chain.proofs import ProofError, encode_receipt, header_hash, receipt_proof, receipts_root, verify_proof
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender

pytestmark = pytest.mark.contracts


@pytest.fixture(scope="module")
def busy_block(two_chains: ChainSettings):
    """A block with several transactions of different kinds (transfers and a deployment)."""
    spec = two_chains.spec("home")
    web3 = connect(spec)
    url = spec.rpc_url
    sender = TxSender(web3, dev_account(8))
    rpc_call(url, "evm_setAutomine", [False])
    try:
        hashes = []
        for i in range(7):
            raw, h = sender.sign({"to": dev_account(9).address, "value": 10**15 + i, "gas": 21_000})
            sender.send_raw(raw, h)
            hashes.append(h)
        rpc_call(url, "evm_mine")
    finally:
        rpc_call(url, "evm_setAutomine", [True])
    receipt = web3.eth.get_transaction_receipt(hashes[0])
    block = rpc_call(url, "eth_getBlockByNumber", [hex(receipt["blockNumber"]), False])
    receipts = rpc_call(url, "eth_getBlockReceipts", [block["number"]])
    assert len(receipts) == 7
    return block, receipts


def test_header_hash_is_recomputed_from_the_fields(busy_block):
    block, _ = busy_block
    assert "0x" + header_hash(block).hex() == block["hash"]


def test_a_changed_header_field_changes_the_hash(busy_block):
    block, _ = busy_block
    assert "0x" + header_hash(dict(block, gasUsed=hex(int(block["gasUsed"], 16) + 1))).hex() != block["hash"]


def test_receipts_root_is_recomputed(busy_block):
    block, receipts = busy_block
    assert "0x" + receipts_root(receipts).hex() == block["receiptsRoot"]


@pytest.mark.parametrize("index", [0, 3, 6])
def test_receipt_proof_verifies_against_the_header_root(busy_block, index):
    block, receipts = busy_block
    root = bytes.fromhex(block["receiptsRoot"][2:])
    proof = receipt_proof(receipts, index)
    key = rlp.encode(index)
    assert verify_proof(root, key, proof) == encode_receipt(receipts[index])
    assert HexaryTrie.get_from_proof(root, key, [rlp.decode(n) for n in proof]) == encode_receipt(receipts[index])


def test_tampered_proofs_are_refused(busy_block):
    block, receipts = busy_block
    root = bytes.fromhex(block["receiptsRoot"][2:])
    proof = receipt_proof(receipts, 2)
    flipped = [*proof[:-1], proof[-1][:-1] + bytes([proof[-1][-1] ^ 1])]
    with pytest.raises(ProofError):
        verify_proof(root, rlp.encode(2), flipped)
    with pytest.raises(ProofError):
        verify_proof(root, rlp.encode(2), proof[:-1])
    assert verify_proof(root, rlp.encode(3), receipt_proof(receipts, 3)) != encode_receipt(receipts[2])


def test_a_forged_receipt_does_not_match_the_proven_value(busy_block):
    block, receipts = busy_block
    forged = dict(receipts[1], cumulativeGasUsed=hex(int(receipts[1]["cumulativeGasUsed"], 16) + 1))
    root = bytes.fromhex(block["receiptsRoot"][2:])
    assert verify_proof(root, rlp.encode(1), receipt_proof(receipts, 1)) != encode_receipt(forged)
