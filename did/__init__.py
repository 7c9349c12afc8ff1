"""Chainright's identity layer: DIDs and verifiable credentials. Knows nothing of the rest.

Nothing here yet beyond the package (see did/README.md).
"""

__all__: list[str] = []
