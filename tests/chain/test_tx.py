"""The transaction helper: sign once, send raw, retry only what is safe, decode reverts."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.errors import ChainUnavailableError, TransactionNotSentError, TransactionRevertedError
from chain.reverts import ErrorDecoder
from chain.settings import DEV_DEPLOYER_KEY, ChainSettings
from chain.tx import TxSender

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def sender(two_chains: ChainSettings, artifacts) -> TxSender:
    web3 = connect(two_chains.spec("home"))
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    return TxSender(web3, Account.from_key(DEV_DEPLOYER_KEY), decoder=decoder)


@pytest.fixture(scope="module")
def registry(sender: TxSender, artifacts):
    art = artifacts.get("RightsRegistry")
    address, _ = sender.deploy(art.abi, art.bytecode, sender.address)
    return sender.web3.eth.contract(address=address, abi=art.abi)


def _hash(label: str) -> bytes:
    return hashlib.sha256(f"test_tx:{label}".encode()).digest()


CID = cid_to_bytes(raw_cid(b"test_tx"))


def test_resending_the_same_signed_bytes_executes_once(sender: TxSender, registry):
    content = _hash("resend")
    tx = sender.call_tx(registry.functions.register(content, CID))
    raw, tx_hash = sender.sign(tx)
    assert sender.send_raw(raw, tx_hash) == tx_hash
    assert sender.send_raw(raw, tx_hash) == tx_hash  # a retry: same hash, no second registration
    receipt = sender.wait(tx_hash)
    assert receipt["status"] == 1
    logs = registry.events.RightsRegistered().process_receipt(receipt)
    assert len(logs) == 1 and logs[0]["args"]["contentHash"] == content
    assert registry.functions.recordOf(content).call()[2] == sender.address
    # Executing the same registration twice is impossible anyway: a second one reverts.
    with pytest.raises(TransactionRevertedError) as err:
        sender.transact(sender.call_tx(registry.functions.register(content, CID)))
    assert err.value.error_name == "RightsAlreadyRegistered"


def test_revert_is_decoded_to_the_custom_error(sender: TxSender, registry):
    tx = sender.call_tx(registry.functions.register(_hash("empty-cid"), b""))
    with pytest.raises(TransactionRevertedError) as err:
        sender.transact(tx)
    assert err.value.error_name == "CidUnsupported"
    assert "CidUnsupported(0x)" in str(err.value)


def test_a_mined_revert_is_explained_by_replay(sender: TxSender, registry):
    tx = sender.call_tx(registry.functions.register(_hash("mined-revert"), b""))
    tx["gas"] = 200_000  # skip estimation, so the failing transaction is mined
    with pytest.raises(TransactionRevertedError) as err:
        sender.transact(tx)
    assert err.value.tx_hash is not None and err.value.error_name == "CidUnsupported"


def test_many_transactions_wait_only_once(sender: TxSender, registry):
    contents = [_hash(f"many-{i}") for i in range(5)]
    assert not any(registry.functions.isRegistered(c).call() for c in contents)
    txs = [sender.call_tx(registry.functions.register(c, CID)) for c in contents]
    hashes = sender.transact_many(txs)
    assert len(set(hashes)) == 5
    assert all(registry.functions.isRegistered(c).call() for c in contents)


def test_a_chain_that_went_away_is_a_clear_error(two_chains: ChainSettings):
    dead = Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 0.5}))
    with pytest.raises(ChainUnavailableError, match="is the chain running"):
        TxSender(dead, Account.from_key(DEV_DEPLOYER_KEY))


class FlakyProvider(HTTPProvider):
    """An HTTP provider whose listed methods fail with ConnectionError (``failures[method]`` times,
    -1: always), as when the node restarts or the connection drops."""

    def __init__(self, url: str, failures: dict[str, int]) -> None:
        super().__init__(url, request_kwargs={"timeout": 5})
        self.failures = dict(failures)
        self.raised: list[str] = []

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        left = self.failures.get(method, 0)
        if left != 0:
            self.failures[method] = left - 1
            self.raised.append(method)
            raise ConnectionError(f"connection dropped ({method}, test)")
        return super().make_request(method, params)


def _flaky_sender(two_chains: ChainSettings, sender: TxSender, failures: dict[str, int]) -> TxSender:
    """A sender for a fresh funded account (so no other sender shares its nonce) over a flaky provider."""
    account = Account.create()
    sender.transact({"to": account.address, "value": 10**18})  # type: ignore[typeddict-item]
    provider = FlakyProvider(two_chains.spec("home").rpc_url, failures)
    return TxSender(Web3(provider), account, decoder=sender.decoder, timeout_s=20)


@pytest.mark.parametrize("method", ["eth_getTransactionReceipt", "eth_estimateGas"])
def test_a_dropped_connection_during_a_read_is_retried(two_chains: ChainSettings, sender: TxSender,
                                                       registry, method: str):
    flaky = _flaky_sender(two_chains, sender, {method: 2})
    content = _hash(f"flaky-{method}")
    receipt = flaky.transact(flaky.call_tx(registry.functions.register(content, CID)))
    assert receipt["status"] == 1
    assert flaky.web3.provider.raised == [method, method]  # type: ignore[attr-defined]
    assert registry.functions.recordOf(content).call()[2] == flaky.address


def test_a_send_that_finally_fails_frees_its_nonce(two_chains: ChainSettings, sender: TxSender, registry):
    flaky = _flaky_sender(two_chains, sender, {"eth_sendRawTransaction": 4})
    lost = flaky.call_tx(registry.functions.register(_hash("lost"), CID))
    with pytest.raises(TransactionNotSentError, match="could not send") as err:
        flaky.transact(lost)
    assert err.value.raw_transaction and err.value.tx_hash.startswith("0x")
    # The node never saw that nonce: the next transaction must take it, not leave a gap and hang.
    content = _hash("after-lost")
    receipt = flaky.transact(flaky.call_tx(registry.functions.register(content, CID)))
    assert receipt["status"] == 1
    assert flaky.web3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 0
    assert registry.functions.isRegistered(content).call()
    assert not registry.functions.isRegistered(_hash("lost")).call()


def test_two_senders_of_one_key_take_turns_without_a_stale_nonce(two_chains: ChainSettings, sender: TxSender,
                                                                 registry):
    """The KYC registry writer keeps one sender for the operator key; the circuit breaker makes a
    fresh one for each setHalted. Interleaved, the long-lived one must not send at a used nonce."""
    long_lived = TxSender(connect(two_chains.spec("home")), sender.account, decoder=sender.decoder)
    for n in range(3):
        fresh = TxSender(connect(two_chains.spec("home")), sender.account, decoder=sender.decoder)
        for who, label in ((long_lived, f"long-{n}"), (fresh, f"fresh-{n}")):
            receipt = who.transact(who.call_tx(registry.functions.register(_hash(label), CID)))
            assert receipt["status"] == 1


def test_concurrent_sends_of_one_key_from_many_senders_all_land(two_chains: ChainSettings, sender: TxSender,
                                                                registry):
    """A halt racing an identity write: the same key from several senders and threads at once; every
    transaction lands, each at its own nonce."""
    import threading

    long_lived = TxSender(connect(two_chains.spec("home")), sender.account, decoder=sender.decoder)
    results: dict[str, Any] = {}
    start = threading.Barrier(8)

    def send(n: int) -> None:
        who = long_lived if n % 2 else TxSender(connect(two_chains.spec("home")), sender.account,
                                                decoder=sender.decoder)
        start.wait()
        try:
            receipt = who.transact(who.call_tx(registry.functions.register(_hash(f"race-{n}"), CID)))
            results[f"race-{n}"] = receipt
        except Exception as exc:  # recorded, so the assertion names every failure
            results[f"race-{n}"] = exc

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    failures = {k: repr(v) for k, v in results.items() if isinstance(v, Exception)}
    assert failures == {} and len(results) == 8
    nonces = [sender.web3.eth.get_transaction(r["transactionHash"])["nonce"] for r in results.values()]
    assert len(set(nonces)) == 8
    for n in range(8):
        assert registry.functions.isRegistered(_hash(f"race-{n}")).call()
