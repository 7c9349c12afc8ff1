"""One router module per resource."""

__all__ = ["assets", "auth", "health", "kyc", "market", "provenance"]
