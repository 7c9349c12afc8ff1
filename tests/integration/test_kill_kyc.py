"""A KYC approval half-written to the two chains: the API SIGKILLed before the first identity registry
write, between the home and the remote write, and after both writes but before the database
recorded the approval. After a restart, the sync (at startup, before each approval, POST /kyc/sync)
finishes the job one way: the application is either approved with both chains verifying the wallet,
or still submitted with neither chain verifying it and a status that says the interrupted approval
was undone; never a chain that verifies a wallet the platform does not call approved. The officer
can then approve again."""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

import pytest
from eth_account import Account

from api.client import ChainrightClient
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.settings import ChainSettings
from chain.wallet import Wallet
from tests.integration.kill_env import KillAt, api_process
from tests.support.api_flow import APPLICATION, OFFICER

pytestmark = pytest.mark.integration

STALE_S = "1"
"""An approval still in progress after this long belongs to a request that died."""


@pytest.fixture(scope="module")
def registries(two_chains: ChainSettings, artifacts, tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deploy_to_chains(two_chains, two_chains.specs("all"))
    deployments = DeploymentRegistry(two_chains.deployments_file)
    abi = artifacts.get("IdentityRegistry").abi
    contracts = {spec.chain_id: connect(spec).eth.contract(
        address=deployments.address(spec.chain_id, "IdentityRegistry"), abi=abi) for spec in two_chains.specs("all")}
    return {"chains": two_chains, "contracts": contracts, "data": tmp_path_factory.mktemp("kyc-kill")}


def verified(registries: dict[str, Any], address: str) -> dict[int, bool]:
    return {cid: bool(c.functions.isVerified(address).call()) for cid, c in registries["contracts"].items()}


KILL_POINTS = {
    "before the first chain write": (KillAt("chain.tx:TxSender.transact", "before", 1), {31337: False, 31338: False}),
    "between the home and the remote write": (KillAt("chain.tx:TxSender.transact", "after", 1),
                                              {31337: True, 31338: False}),
    "after both writes, before the database recorded it": (KillAt("chain.tx:TxSender.transact", "after", 2),
                                                            {31337: True, 31338: True}),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_kyc_approval_killed_between_chain_writes_is_finished_or_undone_after_a_restart(registries, point):
    kill, on_chain_at_crash = KILL_POINTS[point]
    chains, data = registries["chains"], registries["data"]
    applicant = Wallet(Account.create())
    with api_process(chains, data, name="before") as (base, _):
        client = ChainrightClient(base, applicant, 31337)
        client.login()
        app_id = client.kyc_apply(APPLICATION | {"document_number": f"K-{uuid.uuid4().hex[:10]}"})["id"]

    with api_process(chains, data, kill, name="armed") as (base, armed):
        officer = ChainrightClient(base, Wallet(OFFICER), 31337, timeout=60)
        officer.login()
        with contextlib.suppress(Exception):  # the API dies under the request
            officer.kyc_approve(app_id, 2)
        assert armed.killed_at_point(), armed.log.read_text()[-2000:]
    assert verified(registries, applicant.address) == on_chain_at_crash  # the crash is where we meant it

    with api_process(chains, data, name="restarted", CHAINRIGHT_API_IDEMPOTENCY_STALE_S=STALE_S) as (base, _):
        officer = ChainrightClient(base, Wallet(OFFICER), 31337, timeout=60)
        officer.login()
        time.sleep(float(STALE_S) + 0.5)
        officer.post("/kyc/sync")
        app = officer.kyc_application(app_id)
        chains_say = verified(registries, applicant.address)
        if app["state"] == "approved":
            assert chains_say == {31337: True, 31338: True}, (app, chains_say)
        else:
            assert app["state"] == "submitted", app
            assert chains_say == {31337: False, 31338: False}, (app, chains_say)
            assert app["sync_status"] == "rolled_back" and "interrupted" in (app["sync_detail"] or ""), app
            approved = officer.kyc_approve(app_id, 2)  # and the officer can approve it again
            assert approved["state"] == "approved"
            assert verified(registries, applicant.address) == {31337: True, 31338: True}
        client = ChainrightClient(base, applicant, 31337)
        client.login()
        status = client.kyc_status()
        assert status["verified"] and all(status["on_chain"].values()), status
