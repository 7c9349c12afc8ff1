"""Helpers shared by the royalty and licensing contract tests."""

from __future__ import annotations

from typing import Any

import ape

ETH = "0x0000000000000000000000000000000000000000"


def ascending(*accounts: Any) -> list[str]:
    """Addresses of ``accounts`` in the ascending order splits require."""
    return sorted((str(getattr(a, "address", a)) for a in accounts), key=lambda a: int(a, 16))


def balance(who: Any) -> int:
    return int(ape.chain.provider.get_balance(str(getattr(who, "address", who))))


def make_splitter(ape_project: Any, factory: Any, recipients: list[str], bps: list[int], salt: bytes,
                  sender: Any) -> Any:
    tx = factory.createSplitter(recipients, bps, salt, sender=sender)
    return ape_project.RoyaltySplitter.at(tx.return_value)


# -- licensing ------------------------------------------------------------------------------------

LEGAL_TEXT_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
TERMS_ABI_TYPE = "(bool,bool,bool,bool,bool,uint16,uint64,uint256,bytes2[],string)"
USAGE_ANY, USAGE_COMMERCIAL, USAGE_DERIVATIVE, USAGE_WITHOUT_ATTRIBUTION = 0, 1, 2, 4


def three_way_splitter(ape_project: Any, deployer: Any, creator: Any, operator: Any, salt: bytes) -> Any:
    """A 30/40/30 RoyaltySplitter (creator / deployer / operator) from a fresh SplitterFactory."""
    implementation = ape_project.RoyaltySplitter.deploy(sender=deployer)
    factory = ape_project.SplitterFactory.deploy(implementation, sender=deployer)
    tx = factory.createThreeWaySplit(creator, deployer, operator, salt, sender=deployer)
    return ape_project.RoyaltySplitter.at(tx.return_value)


def terms(*, commercial: bool = True, derivatives: bool = True, attribution: bool = True,
          transferable: bool = True, revocable: bool = True, share: int = 1_000, duration: int = 3_600,
          fee: int = 10**15, territories: tuple[bytes, ...] = (), cid: str = LEGAL_TEXT_CID) -> tuple[Any, ...]:
    """LicenseTerms as the tuple the contract takes (field order as in ILicensing.LicenseTerms)."""
    return (commercial, derivatives, attribution, transferable, revocable, share, duration, fee,
            list(territories), cid)


def terms_hash(t: tuple[Any, ...]) -> bytes:
    """keccak256(abi.encode(terms)), computed off-chain."""
    from eth_abi import encode
    from eth_utils import keccak

    return bytes(keccak(encode([TERMS_ABI_TYPE], [t])))


def offer(licensing: Any, work: Any, token_id: int, t: tuple[Any, ...], owner: Any) -> bytes:
    """Publish ``t`` (unless published) and attach it to the work; returns its hash."""
    h = terms_hash(t)
    if not licensing.isPublished(h):
        licensing.publishTerms(t, sender=owner)
    licensing.attachTerms(work, token_id, h, sender=owner)
    return h
