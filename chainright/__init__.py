"""The chainright console command (composition root; nothing imports it)."""

__all__: list[str] = []  # nothing is imported from the console; its modules are listed in README.md
