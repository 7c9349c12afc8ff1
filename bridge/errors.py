"""Exceptions of the ``bridge`` package: one root, a branch per concern.

Messages say what was wrong and what to do; the console command prints them on one line.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error raised by ``bridge``."""


class BridgeSettingsError(BridgeError):
    """Raised when the relayer's settings are inconsistent or unsafe for the environment."""


class BridgeMessageError(BridgeError):
    """Raised when a message, transfer id or signature is malformed."""


class BridgeConfigError(BridgeError):
    """Raised when the bridge contracts are not deployed or not wired (peers, validators)."""


class SubmitterAlreadyRunningError(BridgeError):
    """Raised when another submitter holds the lease of a destination chain in the same database:
    this one delivers nothing until that lease is given back or expires."""
