"""Chainright's bridge: the lock-mint-burn relayer with M-of-N validator attestations.

Uses ``chain`` only. Validators (``relayer.ValidatorWorker``) sign the EIP-712 digest of departures
they verified on the source chain; the submitter (``relayer.SubmitterWorker``) delivers messages with
enough signatures. Decisions are pure (``core``); effects sit at the edges (``chainio``, ``store``).
See bridge/README.md.
"""

__all__: list[str] = []
