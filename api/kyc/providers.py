"""KYC providers: who assesses an application. Manual review by officers is the default; a
vendor integration implements the same interface and is chosen in settings."""

from __future__ import annotations

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


PROVIDERS: dict[str, type[ManualReviewProvider]] = {"manual": ManualReviewProvider}
