"""What the platform knows and proves about the past.

- ``index``       the event indexer: raw logs to decoded rows in SQL (store at the edge, pure core)
- ``proofs``      Merkle-Patricia, receipt, transaction, header and bloom proofs, checked offline
- ``provenance``  a token's story, its signed bundle and the offline verifier
- ``audit``       the auditors' report over a window: collected rows, figures, CSV and HTML
"""

__all__ = ["audit", "index", "proofs", "provenance"]
