"""One router module per resource."""

__all__ = ["assets", "auth", "console", "health", "kyc", "market", "provenance", "wallets", "works"]
