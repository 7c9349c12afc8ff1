"""Provenance for auditors: a token's story from the index, a self-contained bundle of evidence
for it, and an offline verifier.

- ``story``   the events about one token, oldest first, across chains
- ``bundle``  headers, receipts and receipt proofs for every event, plus linking headers
- ``verify``  checks a bundle with no network and names the first broken link
"""

from chain.provenance.bundle import FORMAT, build_bundle, rpcs_for
from chain.provenance.story import entry_view, merge_chains, story_rows, token_story, wrapped_token_id
from chain.provenance.verify import Check, Verdict, verify_bundle

__all__ = [
           "FORMAT",
           "Check",
           "Verdict",
           "build_bundle",
           "entry_view",
           "merge_chains",
           "rpcs_for",
           "story_rows",
           "token_story",
           "verify_bundle",
           "wrapped_token_id",
]
