"""Wire models (pydantic) that more than one router speaks; a resource's own models sit in its
module here (``market``), so that no router imports another router.

- ``common``  ``UnsignedTx``: a transaction for the user's wallet to sign
- ``market``  orders, batches, fills, cancels, gifts and the circuit breaker's view
"""

from api.schemas.common import UnsignedTx

__all__ = ["UnsignedTx"]
