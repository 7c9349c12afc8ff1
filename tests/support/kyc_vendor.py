"""A stand-in for an external KYC vendor (a test double for a third party, not for our code):
it decides by the applicant's document number, as a vendor would after its own checks.

- ``...APPROVE2``: approve at level 2
- ``...NOLEVEL``: approve without a level (a vendor bug the platform must refuse explicitly)
- ``...REJECT``: reject with a reason
- anything else: pending (left to an officer)
"""

from __future__ import annotations

from api.kyc.providers import PROVIDERS, ApplicationView, ProviderDecision, register_provider

NAME = "fakevendor"


class FakeVendorProvider:
    name = NAME

    def __init__(self) -> None:
        self.seen: list[str] = []

    def assess(self, application: ApplicationView) -> ProviderDecision:
        self.seen.append(application.application_id)
        number = application.document_number
        if number.endswith("APPROVE2"):
            return ProviderDecision("approve", "documents and liveness checked by the vendor", level=2)
        if number.endswith("NOLEVEL"):
            return ProviderDecision("approve", "vendor says yes")
        if number.endswith("REJECT"):
            return ProviderDecision("reject", "the document is reported stolen")
        return ProviderDecision("pending", "vendor check inconclusive")


def install() -> None:
    """Register the fake vendor under ``fakevendor`` (idempotent)."""
    if NAME not in PROVIDERS:
        register_provider(NAME, FakeVendorProvider)
