"""``chainright compile`` and ``chainright deploy``: build the contracts and put them on the chains."""

from __future__ import annotations

from typing import Annotated

import typer

from chainright.console import ChainOpt, chain_settings, deploy_contracts, say

app = typer.Typer()  # root-level commands: registered without a group name in chainright/cli.py


@app.command("compile")
def compile_cmd() -> None:
    """Compile every contract through ape (solc 0.8.28 via the project's solcjs shim)."""
    from chain.artifacts import compile_project

    say("compiling contracts/ ...")
    artifacts = compile_project()
    say(f"compiled {len(artifacts.names())} contracts: {', '.join(artifacts.names())}")


@app.command("deploy")
def deploy_cmd(
    chain: ChainOpt = "all",
    force: Annotated[bool, typer.Option(help="Deploy again even where a deployment matches.")] = False,
    force_new_deployment: Annotated[bool, typer.Option(
        help="Deploy a second set onto a chain that already holds the deployer's contracts the "
             "registry does not know (otherwise they are recovered, or the deploy is refused).")] = False,
) -> None:
    """Compile, then deploy every contract family onto the chosen chains through ape."""
    settings = chain_settings()
    out = deploy_contracts(settings.specs(chain), settings, force=force,
                           force_new_deployment=True if force_new_deployment else None)
    for name, contracts in out.items():
        for contract, address in contracts.items():
            typer.echo(f"{name}\t{contract}\t{address}")
    say(f"deployment registry: {settings.deployments_file}")
