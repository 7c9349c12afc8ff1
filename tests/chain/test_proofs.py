"""Header hashes and receipt proofs rebuilt from anvil's own blocks and receipts."""

from __future__ import annotations

import pytest
import rlp
from trie import HexaryTrie

from chain.connection import connect
from chain.devaccounts import dev_account
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender
from record.proofs import ProofError, encode_receipt, header_hash, receipt_proof, receipts_root, verify_proof

pytestmark = pytest.mark.chain


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


def test_transactions_root_and_proofs_match_anvils_block(busy_block, two_chains):
    from record.proofs import call_of, transaction_proof, transactions_root

    block, _ = busy_block
    url = two_chains.spec("home").rpc_url
    raws = [bytes.fromhex(rpc_call(url, "eth_getRawTransactionByHash", [h])[2:]) for h in block["transactions"]]
    root = bytes.fromhex(block["transactionsRoot"][2:])
    assert transactions_root(raws) == root
    proven = verify_proof(root, rlp.encode(3), transaction_proof(raws, 3))
    assert proven == raws[3]
    to, data = call_of(proven)
    assert to == dev_account(9).address.lower() and data == b""
    with pytest.raises(ProofError):
        verify_proof(root, rlp.encode(3), transaction_proof(raws, 3)[:-1])


def test_storage_proofs_of_anvils_state_prove_values_and_absence(two_chains):
    from record.proofs import ProofError, verify_account, verify_storage
    from record.proofs.state import mapping_slot

    spec = two_chains.spec("home")
    web3 = connect(spec)
    sender = TxSender(web3, dev_account(8))
    # A contract whose slot 0 holds 0x2a: PUSH1 0x2a PUSH1 0 SSTORE, then return empty runtime code.
    receipt = sender.transact({"data": "0x602a60005560006000f3", "gas": 100_000})
    address = receipt["contractAddress"]
    block = rpc_call(spec.rpc_url, "eth_getBlockByNumber", [hex(receipt["blockNumber"]), False])
    absent = mapping_slot(7, 3)
    proof = rpc_call(spec.rpc_url, "eth_getProof", [address, [f"0x{0:064x}", f"0x{absent:064x}"], block["number"]])
    state_root = bytes.fromhex(block["stateRoot"][2:])
    account = verify_account(state_root, address, [bytes.fromhex(n[2:]) for n in proof["accountProof"]])
    assert account is not None and account.storage_root.hex() == proof["storageHash"][2:]
    values = [verify_storage(account.storage_root, int(p["key"], 16), [bytes.fromhex(n[2:]) for n in p["proof"]])
              for p in proof["storageProof"]]
    assert values == [0x2A, 0]
    tampered = [bytes.fromhex(n[2:]) for n in proof["accountProof"]]
    tampered[-1] = tampered[-1][:-1] + bytes([tampered[-1][-1] ^ 1])
    with pytest.raises(ProofError):
        verify_account(state_root, address, tampered)
