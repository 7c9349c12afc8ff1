"""Gas cases of the licensing family. Every figure is whole-transaction gas (21,000 base included)."""

from __future__ import annotations

from bench.gas import GasBench, gas_case

# A CIDv1 (base32) as the legal text: 59 characters, the usual length.
LEGAL_TEXT_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
FEE = 10**16
YEAR = 365 * 24 * 3600


def _terms(fee: int = FEE, cid: str = LEGAL_TEXT_CID) -> tuple[object, ...]:
    # (commercialUse, derivativesAllowed, attributionRequired, transferable, revocable,
    #  derivativeRevenueShareBps, duration, fee, territories, legalTextCid)
    return (True, True, True, True, True, 1_000, YEAR, fee, [b"DE", b"FR"], cid)


@gas_case
def licensing(bench: GasBench) -> dict[str, int]:
    """Publishing, attaching, buying, transferring and revoking licenses.

    - ``publish_license``: ``publishTerms`` of typical terms (two territories, a 59-character CID),
      first publication of those terms.
    - ``attach_license_terms``: the work's owner attaches published terms to a work (first
      attachment for that work).
    - ``buy_license``: a licensee's first grant for a work whose ERC-2981 receiver is a three-way
      RoyaltySplitter clone; includes pushing the 0.01 ETH fee into the splitter. Not the first
      grant of the contract (the grant counter is already non-zero).
    - ``transfer_license`` / ``revoke_license``: on a live grant of transferable, revocable terms.
    """
    if "Licensing" not in bench.artifacts or "TestWork721" not in bench.artifacts:
        return {}
    licensing, _ = bench.deploy("Licensing")
    work, _ = bench.deploy("TestWork721")
    implementation, _ = bench.deploy("RoyaltySplitter")
    factory, _ = bench.deploy("SplitterFactory", implementation.address)
    licensor, issuer, channel = (bench.account(i).address for i in (1, 2, 3))
    salt = b"\x07" * 32
    bench.send(factory.functions.createThreeWaySplit(licensor, issuer, channel, salt))
    splitter = factory.functions.predictThreeWaySplitAddress(licensor, issuer, channel, salt).call()
    bench.send(work.functions.mint(licensor, 1))
    bench.send(work.functions.setTokenRoyalty(1, splitter, 1_000))

    figures: dict[str, int] = {}
    figures["publish_license"] = bench.gas(licensing.functions.publishTerms(_terms()))
    terms_hash = licensing.functions.hashTerms(_terms()).call()
    figures["attach_license_terms"] = bench.gas(
        licensing.functions.attachTerms(work.address, 1, terms_hash), by=1)
    buy = licensing.functions.buyLicense(work.address, 1, terms_hash)
    bench.send(buy, by=5, value=FEE)  # the contract's first grant ever, not measured
    figures["buy_license"] = bench.gas(buy, by=4, value=FEE)
    grant_id = licensing.functions.nextGrantId().call() - 1
    figures["transfer_license"] = bench.gas(
        licensing.functions.transferLicense(grant_id, bench.account(6).address), by=4)
    figures["revoke_license"] = bench.gas(licensing.functions.revokeLicense(grant_id), by=1)
    return figures
