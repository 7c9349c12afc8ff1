"""The console's command modules, one per command group; ``chainright/cli.py`` registers each one.

Each module holds one ``app = typer.Typer(...)``: a named group (``chainright kyc ...``) or
top-level commands (``chainright mint``). Modules import ``chainright.console`` for what they
share, never each other and never ``chainright.cli``.
"""

__all__ = [
    "api",
    "assets",
    "audit",
    "bench",
    "bridge",
    "collection",
    "consortium",
    "demo",
    "deploy",
    "escrow",
    "fees",
    "holdings",
    "identity",
    "indexer",
    "kyc",
    "market",
    "node",
    "ops",
    "provenance",
    "relayer",
    "roles",
    "royalties",
    "trade",
    "up",
    "verify",
    "wallet",
    "works",
]
