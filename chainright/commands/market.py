"""``chainright list`` and ``chainright buy``: sell a token with a signed listing, buy one from the wallet."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.errors import ChainError
from chainright.console import (
    ApiOpt,
    ChainOpt,
    WalletOpt,
    api_errors,
    chain_settings,
    load_wallet,
    parse_address,
    parse_eth_option,
    say,
)

app = typer.Typer()  # root-level commands: registered without a group name in chainright/cli.py


@app.command("list")
def list_cmd(
    collection: Annotated[str, typer.Option(help="The token's collection.")],
    token_id: Annotated[int, typer.Option("--token-id", help="The token to sell.")],
    price: Annotated[str, typer.Option(help="Price in ETH, e.g. 0.5 (or 500wei).")],
    hours: Annotated[float, typer.Option(help="How long the listing stays valid.")] = 24.0,
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
) -> None:
    """List a token for sale: the wallet approves the marketplace if needed and signs the order."""
    import time

    from web3.exceptions import BadFunctionCallOutput, ContractLogicError

    from api.client import ChainrightClient
    from chain.artifacts import Artifacts
    from chain.connection import connect
    from chain.deployments import DeploymentRegistry
    from chain.orders import MarketDomain, listing, sign_order
    from chain.reverts import ErrorDecoder, platform_abis, revert_data

    wei = parse_eth_option(price, "--price")
    address = parse_address(collection, "--collection")
    settings = chain_settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    wallet = load_wallet(wallet_name)
    web3 = connect(spec)
    if not web3.eth.get_code(address):  # type: ignore[arg-type]
        raise ChainError(f"no contract at {address} on {chain} (chain {spec.chain_id}); give the "
                         "collection address 'chainright mint' printed")
    market = DeploymentRegistry(settings.deployments_file).address(spec.chain_id, "Marketplace")
    artifacts = Artifacts.load()
    nft = web3.eth.contract(address=address, abi=artifacts.get("CreatorCollection").abi)  # type: ignore[call-overload]
    try:
        # The listing binds the token's holding epoch: it dies if the token ever leaves this wallet.
        # Read first, so a token that does not exist is refused before the wallet signs anything.
        epoch = nft.functions.holdingEpoch(wallet.address, token_id).call()
        approved = nft.functions.isApprovedForAll(wallet.address, market).call()
    except ContractLogicError as exc:
        why = ErrorDecoder(platform_abis()).explain(revert_data(exc))
        raise ChainError(f"cannot list token {token_id} of {address}: {why}") from None
    except BadFunctionCallOutput:
        raise ChainError(f"{address} on chain {spec.chain_id} is not a collection of this platform; "
                         "give the collection address 'chainright mint' printed") from None
    if not approved:
        data = nft.encode_abi("setApprovalForAll", args=[market, True])
        wallet.send(web3, {"to": nft.address, "data": data, "chain_id": spec.chain_id})
        say("approved the marketplace for this collection")
    marketplace = web3.eth.contract(address=market, abi=artifacts.get("Marketplace").abi)  # type: ignore[call-overload]
    counter = marketplace.functions.counterOf(wallet.address).call()
    now = int(time.time())
    order = listing(seller=wallet.address, token=nft.address, token_id=token_id, unit_price=wei,
                    start=now - 60, expiry=now + int(hours * 3600), counter=counter, holding_epoch=epoch)
    signed = sign_order(order, MarketDomain(spec.chain_id, market), wallet.account)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        with api_errors():
            client.login()
            out = client.submit_order({
                "chain_id": spec.chain_id, "side": "listing", "signer": order.signer, "token": order.token,
                "token_id": token_id, "unit_price": wei, "start": order.start, "expiry": order.expiry,
                "salt": order.salt, "counter": counter, "holding_epoch": epoch,
                "signature": "0x" + signed.signature.hex()})
    finally:
        client.close()
    typer.echo(out["order_hash"])
    from chain.formatting import format_time, format_wei

    say(f"listed token {token_id} for {format_wei(wei)} until {format_time(order.expiry)}")


@app.command("buy")
def buy_cmd(
    order_hash: Annotated[str, typer.Argument(help="The listing's order hash.")],
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
) -> None:
    """Buy a listed token: the API builds the fill transaction, your wallet signs and pays."""
    from api.client import ChainrightClient
    from chain.connection import connect

    settings = chain_settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    wallet = load_wallet(wallet_name)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        with api_errors():
            client.login()
            tx = client.fill_tx(order_hash)
    finally:
        client.close()
    receipt = wallet.send(connect(spec), tx)
    typer.echo("0x" + bytes(receipt["transactionHash"]).hex())
    from chain.formatting import format_wei

    say(f"bought in block {receipt['blockNumber']} for {format_wei(int(tx['value'], 16))} "
        f"(gas {receipt['gasUsed']})")
