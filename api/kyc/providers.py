"""KYC providers: who assesses an application. Manual review by officers is the default; a
vendor integration implements ``KycProvider``, registers a factory under a name
(``register_provider``) and is chosen with ``CHAINRIGHT_API_KYC_PROVIDER``.

A provider's decision is applied, never ignored: ``reject`` rejects at once (with its reason);
``approve`` (with a level 1-3) is carried out through the same approval path as an officer's
(actor ``provider:<name>``: sanctions screened again, credential issued, every chain written); if
that cannot complete, or the level is missing, the application stays submitted for an officer and
the reason is recorded; ``pending`` leaves it to an officer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class ProviderDecision:
    outcome: Literal["pending", "approve", "reject"]
    reason: str = ""
    level: int | None = None


@dataclass(frozen=True)
class ApplicationView:
    """What a provider sees: the decrypted application, never logged."""

    application_id: str
    subject: str
    country: str
    legal_name: str
    date_of_birth: str
    document_type: str
    document_number: str
    has_document_file: bool


class KycProvider(Protocol):
    name: str

    def assess(self, application: ApplicationView) -> ProviderDecision: ...


class ManualReviewProvider:
    """Leaves every application to a KYC officer."""

    name = "manual"

    def assess(self, application: ApplicationView) -> ProviderDecision:
        return ProviderDecision("pending", "awaiting review by a KYC officer")


ProviderFactory = Callable[[], KycProvider]

PROVIDERS: dict[str, ProviderFactory] = {"manual": ManualReviewProvider}
"""The providers ``CHAINRIGHT_API_KYC_PROVIDER`` can name."""


class UnknownProviderError(ValueError):
    """Raised when the configured KYC provider is not registered; the message lists those that are."""


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Make a provider selectable by ``name`` (a vendor integration calls this at import)."""
    PROVIDERS[name] = factory


def make_provider(name: str) -> KycProvider:
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise UnknownProviderError(
            f"unknown KYC provider {name!r}; CHAINRIGHT_API_KYC_PROVIDER must be one of "
            f"{', '.join(sorted(PROVIDERS))}") from None
    return factory()
