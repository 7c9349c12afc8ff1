"""`ape run deploy [--chain home|remote|all] [--force]`: deploy every contract family through ape.

The same code path as `chainright deploy` (chain.deploy.deploy_to_chains): settings come from
CHAINRIGHT_CHAIN_* variables, each chain is reached through its ape network, and every
deployment is recorded in the registry under the data directory.
"""

import click

from chain.deploy import deploy_to_chains
from chain.errors import ChainError
from chain.settings import ChainSettings


@click.command()
@click.option("--chain", "which", default="all", show_default=True,
              type=click.Choice(["home", "remote", "all"]), help="Which chain(s) to deploy to.")
@click.option("--force", is_flag=True, help="Deploy again even where a deployment matches.")
def cli(which: str, force: bool) -> None:
    """Deploy every contract family onto the local (or configured) chains."""
    settings = ChainSettings()
    try:
        results = deploy_to_chains(settings, settings.specs(which), force=force,
                                   progress=lambda m: click.echo(m, err=True))
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None
    for name, rs in results.items():
        for r in rs:
            click.echo(f"{name}\t{r.deployment.contract}\t{r.deployment.address}")
