"""``chainright provenance export``: a token's provenance bundle from the index and the chain's RPC."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chain.errors import ChainError
from chainright.console import api_settings, chain_settings, say

app = typer.Typer(no_args_is_help=True, help="Provenance bundles for auditors.")


@app.command("export")
def provenance_export(
    collection: Annotated[str, typer.Option(help="The token's collection address.")],
    token_id: Annotated[int, typer.Option("--token-id", help="The token id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the bundle (JSON).")],
    chain: Annotated[str, typer.Option(help="The token's chain: home or remote.")] = "home",
) -> None:
    """Export a token's provenance bundle from the index and the chain's RPC."""
    import json

    from web3 import Web3

    from api.db import Database
    from chain.artifacts import Artifacts
    from record.index.store import IndexStore
    from record.provenance import build_bundle, final_blocks, rpcs_for, token_story

    settings = chain_settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    if not Web3.is_address(collection):
        raise ChainError(f"{collection!r} is not an address")
    address = Web3.to_checksum_address(collection)
    db = Database(api_settings().effective_database_url)
    with IndexStore(db.engine).engine.connect() as conn:
        rows = token_story(conn, spec.chain_id, address, token_id,
                           [s.chain_id for s in settings.specs("all")], work_id=token_id)
        proven_at = final_blocks(conn, [s.chain_id for s in settings.specs("all")])
    if not rows:
        raise ChainError(f"no indexed event about token {token_id} of {address} on chain {spec.chain_id}; "
                         "run 'chainright indexer run --once' first")
    artifacts = Artifacts.load()
    rpcs = rpcs_for({s.chain_id: s.rpc_url for s in settings.specs("all")})
    bundle = build_bundle({"chain_id": spec.chain_id, "collection": address, "token_id": token_id}, rows,
                          rpcs, {n: artifacts.get(n).abi for n in artifacts.names()}, progress=say,
                          state_blocks=proven_at)
    out.write_text(json.dumps(bundle, indent=1))
    say(f"wrote {out}: {len(bundle['events'])} events, "
        f"{sum(len(h) for h in bundle['headers'].values())} headers")
