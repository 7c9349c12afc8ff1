"""The ``chainright`` console command: the composition root. Nothing imports this module.

It only assembles: each command group lives in its own module under ``chainright/commands/`` and
is registered once in ``COMMANDS`` below; what the modules share (``say``, settings loaders,
wallets, ETH amounts) is ``chainright/console.py``. ``main()`` is where errors become one line.

Every failure a user can cause or meet prints one ``error:`` line that says what was wrong and
what to do, and exits non-zero; stack traces are for ``CHAINRIGHT_DEBUG=1`` only.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from bridge.errors import BridgeError
from chain.errors import ChainError
from chainright.commands import (
    api,
    assets,
    audit,
    bench,
    bridge,
    collection,
    consortium,
    demo,
    deploy,
    escrow,
    fees,
    holdings,
    identity,
    indexer,
    kyc,
    market,
    node,
    ops,
    provenance,
    relayer,
    roles,
    royalties,
    trade,
    up,
    verify,
    wallet,
    works,
)
from chainright.console import say

# -h is --help everywhere (sub-commands inherit the root context's help option names).
HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

COMMANDS: list[tuple[str | None, typer.Typer]] = [
    # (group name, the module's Typer app); None: the module's commands sit at the top level
    # (`chainright mint`, not `chainright assets mint`). `chainright -h` lists them in this order.
    # A new command module: a new file chainright/commands/<name>.py with `app = typer.Typer(...)`,
    # imported above and added here with one line.
    (None, deploy.app),  # compile, deploy
    (None, identity.app),  # login, logout
    (None, assets.app),  # mint
    (None, market.app),  # list, buy
    (None, verify.app),  # verify
    (None, demo.app),  # demo
    (None, up.app),  # up
    ("node", node.app),
    ("api", api.app),
    ("wallet", wallet.app),
    ("provenance", provenance.app),
    ("indexer", indexer.app),
    ("bench", bench.app),
    ("consortium", consortium.app),
    ("relayer", relayer.app),
    ("audit", audit.app),
    ("kyc", kyc.app),
    ("trade", trade.app),  # auctions, offers, licenses, rentals, gifts
    ("escrow", escrow.app),  # milestone escrow
    (None, holdings.app),  # holdings
    ("royalties", royalties.app),  # creators' income
    ("fees", fees.app),  # the platform fee, for the treasury
    ("bridge", bridge.app),  # send a token across and follow it
    ("ops", ops.app),  # pause and unpause contract families
    ("collection", collection.app),  # your own collection's settings
    ("roles", roles.app),  # grant and revoke API roles
    ("works", works.app),  # browse and search the catalogue
]

app = typer.Typer(add_completion=False, no_args_is_help=True, context_settings=HELP_OPTIONS,
                  help="Chainright: issue, license, trade and audit digital goods on EVM chains.")
for _name, _commands in COMMANDS:
    app.add_typer(_commands, name=_name)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"chainright {version('chainright')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("chainright (not installed)")
        raise typer.Exit(0)


@app.callback()
def root(
    _show_version: Annotated[bool, typer.Option(
        "--version", "-V", is_eager=True, callback=_version, help="Print the version and exit.")] = False,
) -> None:
    """Chainright: issue, license, trade and audit digital goods on EVM chains."""


def main() -> None:
    """Entry point: run the command, turning our errors into one readable line."""
    from chainright.logs import configure_logging

    configure_logging(sys.argv[1:])  # CHAINRIGHT_LOG_FORMAT=json: JSON lines tagged with the role
    debug = os.environ.get("CHAINRIGHT_DEBUG") == "1"
    try:
        rc = app(prog_name="chainright", standalone_mode=False)  # the code of typer.Exit / --help
        sys.exit(rc if isinstance(rc, int) else 0)
    except (ChainError, BridgeError) as exc:
        if debug:
            raise
        from chain.reverts import explain_exception

        say(f"error: {explain_exception(exc)}")  # a revert reads as a sentence with what to do
        sys.exit(1)
    except typer.TyperException as exc:
        # Usage mistakes (an unknown command or option, a bad value, a missing argument): click's
        # usage message naming the command or option, exit 2, as every Unix tool does.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            say(f"error: {exc}")
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(130)
    except typer.Abort:
        say("aborted")
        sys.exit(1)
    except Exception as exc:
        if debug:
            raise
        say(f"error: unexpected {type(exc).__name__}: {exc} (set CHAINRIGHT_DEBUG=1 for details)")
        sys.exit(1)


if __name__ == "__main__":
    main()
