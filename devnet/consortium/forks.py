"""Clique fork deadlocks: the pure decision of what a set of node heads means and what to do.

A Clique network of V signers lets a signer seal at most one of any floor(V/2) + 1 consecutive
blocks. When the signers end up on different forks of equal total difficulty (they sealed at the
same time before hearing of each other's blocks, or a partition healed), every signer on each fork
may have "signed recently" there, and nobody seals again: geth logs ``signed recently, must wait
for others`` forever, and it never switches forks by itself (equal difficulty, no new blocks).

``diagnose`` reads one observation of every running node's head (no I/O here) and says which of
these the network is in:

- ``ok``: every node on the same head, and the head is young;
- ``forked``: heads differ, but blocks still arrive (a race that Clique resolves by itself);
- ``stalled``: one head for all, but old (quorum lost: validators down; nothing to rewind);
- ``partitioned``: heads differ, old, and some node on a losing fork has no peer on the winning
  one (a rewind would only start the race again: wait for the link to return);
- ``deadlock``: heads differ, old, and every losing node is peered with the winning fork: the
  losers are rewound to the common ancestor and take the winning blocks (``Consortium.heal``).

The winning fork is the one most nodes are on (fewest rewinds), then the higher total difficulty
(the fork geth itself prefers), then the lower head hash (so every observer picks the same one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Diagnosis", "HeadView", "diagnose"]


@dataclass(frozen=True)
class HeadView:
    """One running node's head as seen at one moment."""

    node: str
    """The node's name (node<i>)."""
    node_id: str
    """Its p2p node id (the enode's public key, hex), to match peer lists."""
    number: int
    hash: str
    timestamp: int
    total_difficulty: int
    peers: frozenset[str] = field(default_factory=frozenset)
    """Node ids of its connected peers."""


@dataclass(frozen=True)
class Diagnosis:
    kind: str
    """ok, forked, stalled, partitioned or deadlock (see the module docstring)."""
    detail: str
    winners: tuple[str, ...] = ()
    """Nodes on the winning fork (deadlock and partitioned only)."""
    losers: tuple[str, ...] = ()
    """Nodes whose head is not the winning head: rewound (if forked) or caught up (if behind)."""
    head_age_s: float = 0.0


def diagnose(views: Sequence[HeadView], now: float, stall_age_s: float) -> Diagnosis:
    """What the heads in ``views`` say about the network at time ``now`` (see module docstring)."""
    if not views:
        return Diagnosis("stalled", "no node answers")
    newest = max(v.timestamp for v in views)
    age = max(0.0, now - newest)
    old = age > stall_age_s
    groups: dict[str, list[HeadView]] = {}
    for view in views:
        groups.setdefault(view.hash, []).append(view)
    if len(groups) == 1:
        head = views[0]
        if old:
            return Diagnosis("stalled", f"every node at block {head.number}, {age:.0f}s old: too few "
                             "validators are sealing", head_age_s=age)
        return Diagnosis("ok", f"every node at block {head.number}", head_age_s=age)
    heads = ", ".join(f"{v.node} at {v.number} ({v.hash[:10]})" for v in sorted(views, key=lambda v: v.node))
    if not old:
        return Diagnosis("forked", f"heads differ while blocks still arrive: {heads}", head_age_s=age)

    def rank(members: list[HeadView]) -> tuple[int, int, int, str]:
        head = members[0]
        # Higher is better for the first three; the lowest hash wins a full tie (hence the inversion).
        return (len(members), head.total_difficulty, head.number, _invert(head.hash))

    winner_hash = max(groups, key=lambda h: rank(groups[h]))
    winners = groups[winner_hash]
    winner_ids = {v.node_id for v in winners}
    losers = [v for v in views if v.hash != winner_hash]
    cut_off = [v.node for v in losers if not (v.peers & winner_ids)]
    names_w = tuple(sorted(v.node for v in winners))
    names_l = tuple(sorted(v.node for v in losers))
    if cut_off:
        return Diagnosis("partitioned", f"no block for {age:.0f}s and heads differ ({heads}); "
                         f"{', '.join(sorted(cut_off))} not peered with the winning fork "
                         f"({', '.join(names_w)}): waiting for the link", names_w, names_l, age)
    return Diagnosis("deadlock", f"no block for {age:.0f}s and heads differ ({heads}); winning fork: "
                     f"{', '.join(names_w)} at block {winners[0].number}", names_w, names_l, age)


def _invert(hex_hash: str) -> str:
    """A string that sorts in the reverse order of ``hex_hash`` (same length, hex digits)."""
    digits = "0123456789abcdef"
    body = hex_hash.lower().removeprefix("0x")
    return "".join(digits[15 - digits.index(c)] if c in digits else c for c in body)
