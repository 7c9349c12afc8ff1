"""One router module per resource."""

__all__ = ["assets", "auth", "collections", "console", "health", "kyc", "market", "provenance", "wallets",
           "works"]
