"""Provenance for auditors: a token's story from the index, a self-contained bundle of evidence
for it, and an offline verifier.

- ``story``   the events about one token, oldest first, across chains (and its commission)
- ``kyc``     the creator's KYC status at the registration, from identity events (pure)
- ``bundle``  headers, receipts and receipt proofs for every event, plus linking headers
- ``verify``  checks a bundle with no network and names the first broken link
"""

from record.provenance.bundle import FORMAT, build_bundle, rpcs_for
from record.provenance.kyc import kyc_status
from record.provenance.story import (
    creator_view,
    entry_view,
    final_blocks,
    merge_chains,
    story_rows,
    story_views,
    token_story,
    wrapped_token_id,
)
from record.provenance.verify import Check, TrustedHead, Verdict, verify_bundle

__all__ = [
           "FORMAT",
           "Check",
           "TrustedHead",
           "Verdict",
           "build_bundle",
           "creator_view",
           "entry_view",
           "final_blocks",
           "kyc_status",
           "merge_chains",
           "rpcs_for",
           "story_rows",
           "story_views",
           "token_story",
           "verify_bundle",
           "wrapped_token_id",
]
