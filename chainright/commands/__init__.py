"""The console's command groups, one module each (registered on the root app by chainright/cli.py)."""

__all__: list[str] = []
