"""The chainright console command (composition root; nothing imports it)."""
