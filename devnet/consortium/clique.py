"""Clique on the running nodes: heads and signers, the one-at-a-time sealing start, votes, fork healing.

Every function here talks to nodes given to it (their RPC URLs); which nodes run is the caller's
knowledge (``devnet.consortium.network.Consortium``). The decisions are pure functions
(``sealing_order``, ``sealing_patience``, ``choose_sides``, ``quorum_refusal``, ...), so they
are tested without geth. The waits and timeouts of the start are what make it wedge-proof
(devnet/README.md, "A start that cannot fork"); change them only with a new measurement.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_utils.address import to_checksum_address

from chain.errors import ChainUnavailableError, NodeStartError
from chain.progress import Progress
from chain.rpc import rpc_call
from devnet.consortium.forks import Diagnosis, HeadView, diagnose
from devnet.consortium.genesis import enode_id
from devnet.consortium.settings import ConsortiumError, ConsortiumNode, NetworkInfo

log = logging.getLogger(__name__)

HEAL_SETTLE_S = 30.0
"""How long a healing waits for the rewound nodes to reach the winning head before it reports them
as lagging (they sync by themselves)."""


@dataclass(frozen=True)
class ForkRecovery:
    """What one healing of a fork deadlock did (kept by the watchdog, shown by ``status``)."""

    at: float
    detail: str
    winning_head: int
    winners: tuple[str, ...]
    rewound: dict[str, int]
    """Node name -> the block it was rewound to (the common ancestor)."""
    transactions: int
    """Transactions found in the dropped blocks."""
    resent: int
    """Of those, how many the winning fork did not hold yet (mined afterwards)."""
    lagging: tuple[str, ...] = ()
    """Nodes not yet at the winning head when the healing ended (they sync by themselves)."""


@dataclass(frozen=True)
class NodeStatus:
    """One node as ``chainright consortium status`` shows it."""

    node: ConsortiumNode
    pid: int | None
    block: int | None
    peers: int | None
    head_signer: str | None
    is_signer: bool | None
    head_age_s: float | None = None
    """Seconds since the timestamp of the node's head block."""
    error: str | None = None
    head_hash: str | None = None

    @property
    def running(self) -> bool:
        return self.pid is not None


# -- pure rules ---------------------------------------------------------------------------------


def confirmations_for(validators: int) -> int:
    """Blocks to wait on a Clique network of ``validators`` signers: floor(V/2) + 1.

    Clique lets a signer seal at most one of any floor(V/2) + 1 consecutive blocks, so that many
    blocks on top of a block come from that many distinct signers: a majority of the validator set
    has built on it. Clique has no finality; forks come from out-of-turn signers racing and are
    resolved within a block or two, well inside this depth.
    """
    return validators // 2 + 1


def stall_age_for(period_s: int) -> float:
    """Head age (s) after which a network of ``period_s`` blocks counts as stalled.

    Four periods, at least the period + 3 s: an in-turn signer that is down delays a block by at
    most about one period plus Clique's out-of-turn wiggle (up to 0.5 s per half of the signers),
    so a live network never looks stalled, and a stall is seen within a few seconds.
    """
    return float(max(4 * period_s, period_s + 3))


def sealing_order(nodes: Sequence[ConsortiumNode], recent: set[str]) -> list[ConsortiumNode]:
    """The order in which ``nodes`` start sealing: by index, those that sealed ``recent`` blocks last
    (Clique forbids them the next block)."""
    return sorted(nodes, key=lambda n: (n.address in recent, n.index))


def sealing_patience(node_count: int, period_s: int) -> float:
    """How long a starting validator may take to seal a block every node imports: a few rounds."""
    return 4 * node_count * period_s + 5.0


def choose_sides(views: Sequence[HeadView], verdict: Diagnosis) -> tuple[list[str], list[str]]:
    """The nodes on the winning fork and the others: the diagnosis' choice, else (a forced heal of
    heads that still move) the heaviest, then longest, then lowest-hash head."""
    if verdict.winners:
        return list(verdict.winners), list(verdict.losers)
    ranked = sorted(views, key=lambda v: (-v.total_difficulty, -v.number, v.hash))
    win_hash = ranked[0].hash
    return [v.node for v in views if v.hash == win_hash], [v.node for v in views if v.hash != win_hash]


def is_benign_refusal(message: str) -> bool:
    """True when re-sending a transaction was refused because the winning fork already holds it."""
    return any(word in message for word in ("known", "nonce too low", "underpriced"))


def votes_needed(signers: int) -> int:
    """Votes a signer-set change needs: more than half of the current signers."""
    return signers // 2 + 1


def membership_refusal(current: Sequence[str], target: str, add: bool) -> str | None:
    """Why ``target`` cannot be voted in (``add``) or out of the ``current`` signers; None when it can."""
    if add and target in current:
        return f"{target} is already a signer"
    if not add and target not in current:
        return f"{target} is not a signer (signers: {', '.join(current)})"
    return None


def quorum_refusal(current: Sequence[str], target: str, add: bool, voters: int) -> str | None:
    """Why ``voters`` running signers of ``current`` cannot carry the vote on ``target``; None when
    they are more than half."""
    needed = votes_needed(len(current))
    if voters >= needed:
        return None
    return (f"only {voters} of the {len(current)} signers run here; "
            f"{'adding' if add else 'removing'} a signer needs {needed} votes. Start more signer "
            f"nodes, or have the other members vote with clique_propose(\"{target}\", "
            f"{'true' if add else 'false'}) on theirs")


def proposal_timeout(signers: int, period_s: int) -> float:
    """How long a vote may take to show in the signer set: 30 s plus four rounds of signers."""
    return 30.0 + 4 * signers * period_s


# -- heads and signers --------------------------------------------------------------------------


def head(url: str) -> int:
    return int(rpc_call(url, "eth_blockNumber"), 16)


def head_hash(url: str) -> str:
    return str(rpc_call(url, "eth_getBlockByNumber", ["latest", False])["hash"])


def signers(url: str) -> list[str]:
    """The current Clique signer set (checksummed), as node ``url`` sees it."""
    return [to_checksum_address(a) for a in rpc_call(url, "clique_getSigners", [None])]


def signer_of(number: int, url: str) -> str:
    """The address that sealed block ``number`` (recovered by geth from the header seal)."""
    return to_checksum_address(rpc_call(url, "clique_getSigner", [hex(number)]))


def recent_signers(count: int, url: str) -> list[str]:
    """Signers of the last ``count`` blocks, oldest first."""
    top = head(url)
    return [signer_of(n, url) for n in range(max(1, top - count + 1), top + 1)]


def recent_sealers(url: str, count: int) -> set[str]:
    """Signers of the newest ``count`` blocks (they may not seal the next one)."""
    return set(recent_signers(count, url))


def node_status(node: ConsortiumNode, pid: int) -> NodeStatus:
    """Running node ``node``'s head, peers, head signer and whether it is a signer."""
    try:
        block = rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])
        number = int(block["number"], 16)
        peers = int(rpc_call(node.rpc_url, "net_peerCount"), 16)
        head_signer = signer_of(number, node.rpc_url) if number > 0 else None
        is_signer = node.address in signers(node.rpc_url)
        age = max(0.0, time.time() - int(block["timestamp"], 16))
        return NodeStatus(node=node, pid=pid, block=number, peers=peers, head_signer=head_signer,
                          is_signer=is_signer, head_age_s=age, head_hash=str(block["hash"]))
    except ChainUnavailableError as exc:
        return NodeStatus(node=node, pid=pid, block=None, peers=None, head_signer=None,
                          is_signer=None, error=str(exc))


def wait_until_sealing(net: NetworkInfo, url: str, wanted: int, limit: float, progress: Progress,
                       log_dir: Path) -> set[str]:
    """Wait until blocks sealed by ``wanted`` distinct validators arrive at ``url``; the signers seen."""
    deadline = time.monotonic() + limit
    seen: set[str] = set()
    last = head(url)
    start = last
    while time.monotonic() < deadline:
        top = head(url)
        for number in range(last + 1, top + 1):
            signer = signer_of(number, url)
            node = net.by_address(signer)
            if signer not in seen:
                seen.add(signer)
                progress(f"block {number} sealed by {signer} ({node.name if node else 'unknown'}); "
                         f"{len(seen)} distinct signer(s)")
        last = top
        if len(seen) >= wanted:
            return seen
        time.sleep(0.2)
    raise NodeStartError(
        f"blocks {start + 1}..{last} were sealed by {len(seen)} distinct validator(s) within "
        f"{limit:.0f}s, expected {wanted}; check peering in {log_dir}"
    )


# -- the sealing start --------------------------------------------------------------------------


def start_sealing(net: NetworkInfo, nodes: Sequence[ConsortiumNode], running: Sequence[ConsortiumNode],
                  peer_timeout_s: float, progress: Progress,
                  heal: Callable[[], ForkRecovery | None]) -> None:
    """Start sealing on ``nodes`` one validator at a time, so that the start cannot fork.

    Validators that start sealing together each build their own block on the same parent; with
    equal difficulty Clique can then stall for good (see devnet/consortium/forks.py). So: wait until every
    starting node is peered with every ``running`` node and all running nodes agree on the head
    (``heal``, a forced healing, settles heads that stay apart); then start one validator's miner,
    wait until a block it sealed is imported by every running node, and only then start the next.
    While a validator waits for its block, the validators already started can only extend the block
    everybody has, so no two blocks compete for the same height (the argument is in
    devnet/README.md). Validators that signed the newest blocks (and so may not seal the next one)
    go last. A validator that cannot seal within a few periods (quorum lost, or it signed too
    recently) is started anyway and reported.
    """
    if not nodes:
        return
    wait_peered(nodes, running, peer_timeout_s, progress)
    if not wait_in_step(running, peer_timeout_s):
        # Heads that stay apart at the start are a fork left from before (a deadlock the previous
        # run ended in): it is healed here, before anyone seals on top of it.
        if heal() is None:
            progress("the nodes' heads still differ; sealing starts anyway and the watchdog "
                     "resolves what remains")
    recent = recent_sealers(running[0].rpc_url, len(net.nodes) // 2)
    order = sealing_order(nodes, recent)
    patience = sealing_patience(len(net.nodes), net.block_period_s)
    for node in order:
        before = head(node.rpc_url)
        rpc_call(node.rpc_url, "miner_start", [])
        sealed = wait_sealed_everywhere(node, before, running, patience)
        if sealed is None:
            progress(f"{node.name}: sealing started; no block of its own within {patience:.0f}s "
                     "(it signed too recently, or too few validators run)")
        else:
            progress(f"{node.name}: sealed block {sealed}, imported by every node")


def wait_peered(nodes: Sequence[ConsortiumNode], running: Sequence[ConsortiumNode], timeout: float,
                progress: Progress) -> None:
    """Wait (``timeout`` in all) until each of ``nodes`` has every other running node as a peer."""
    others = {n.index for n in running}
    deadline = time.monotonic() + timeout
    for node in nodes:
        want = len(others - {node.index})
        peers = 0
        while True:
            peers = int(rpc_call(node.rpc_url, "net_peerCount"), 16)
            if peers >= want or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if peers < want:
            progress(f"{node.name}: {peers} of {want} peers after {timeout:.0f}s; starting anyway")


def wait_in_step(running: Sequence[ConsortiumNode], timeout: float) -> bool:
    """Wait until every running node has the same head (a restarted node syncs first); False when
    they still differ after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        heads = {head_hash(n.rpc_url) for n in running}
        if len(heads) <= 1:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)


def wait_sealed_everywhere(node: ConsortiumNode, after: int, running: Sequence[ConsortiumNode],
                           timeout: float) -> int | None:
    """The number of the first block above ``after`` sealed by ``node`` once every running node
    has that very block; None after ``timeout``."""
    deadline = time.monotonic() + timeout
    mine: tuple[int, str] | None = None
    checked = after
    while time.monotonic() < deadline:
        if mine is None:
            top = head(node.rpc_url)
            for number in range(checked + 1, top + 1):
                if signer_of(number, node.rpc_url) == node.address:
                    block = rpc_call(node.rpc_url, "eth_getBlockByNumber", [hex(number), False])
                    mine = (number, str(block["hash"]))
                    break
                checked = number
        if mine is not None:
            number, block_hash = mine
            seen = [rpc_call(n.rpc_url, "eth_getBlockByNumber", [hex(number), False]) for n in running]
            if all(b is not None and b["hash"] == block_hash for b in seen):
                return number
            if any(b is not None and b["hash"] != block_hash for b in seen):
                mine = None  # its block lost a race after all: wait for another of its own
                checked = number
        time.sleep(0.1)
    return None


# -- votes --------------------------------------------------------------------------------------


def propose(net: NetworkInfo, url: str, address: str, *, add: bool, is_running: Callable[[int], bool],
            wait: bool, timeout: float | None, progress: Progress) -> list[str]:
    """Vote ``address`` in (``add``) or out on every running signer node; returns the voters' names.

    The signer set is read from ``url``. With ``wait``, waits until it shows the change, then
    discards the spent proposal on every voter.
    """
    target = to_checksum_address(address)
    current = signers(url)
    refusal = membership_refusal(current, target, add)
    if refusal is not None:
        raise ConsortiumError(refusal)
    voters = [n for n in net.nodes if n.address in current and is_running(n.index)]
    refusal = quorum_refusal(current, target, add, len(voters))
    if refusal is not None:
        raise ConsortiumError(refusal)
    needed = votes_needed(len(current))
    for node in voters:
        rpc_call(node.rpc_url, "clique_propose", [target, add], timeout=5)
    progress(f"{'add' if add else 'remove'} {target}: voted on "
             f"{', '.join(n.name for n in voters)} "
             f"({len(voters)} of {len(current)} signers, {needed} needed)")
    if not wait:
        return [n.name for n in voters]
    limit = timeout if timeout is not None else proposal_timeout(len(current), net.block_period_s)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if (target in signers(url)) == add:
            break
        time.sleep(0.25)
    else:
        raise ConsortiumError(f"the signer set did not change within {limit:.0f}s after the votes; "
                              "check that the voting nodes seal blocks ('chainright consortium status')")
    for node in voters:
        try:
            rpc_call(node.rpc_url, "clique_discard", [target], timeout=5)
        except ChainUnavailableError as exc:
            log.warning("could not discard the spent proposal on %s: %s", node.name, exc)
    progress(f"{target} is {'now a signer' if add else 'no longer a signer'} (block {head(url)})")
    return [n.name for n in voters]


# -- forks: observe and heal --------------------------------------------------------------------


def observe(nodes: Sequence[ConsortiumNode]) -> list[HeadView]:
    """The head, total difficulty and peers of each of ``nodes`` that answers, as one observation."""
    views: list[HeadView] = []
    for node in nodes:
        try:
            block = rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])
            peers = rpc_call(node.rpc_url, "admin_peers") or []
        except ChainUnavailableError:
            continue
        views.append(HeadView(
            node=node.name, node_id=enode_id(node.enode), number=int(block["number"], 16),
            hash=str(block["hash"]), timestamp=int(block["timestamp"], 16),
            total_difficulty=int(block.get("totalDifficulty") or "0x0", 16),
            peers=frozenset(enode_id(str(p.get("enode", ""))) for p in peers)))
    return views


def heal(net: NetworkInfo, views: Sequence[HeadView], run_dir: Path, progress: Progress, *,
         force: bool = False) -> ForkRecovery | None:
    """Resolve a fork deadlock among the observed nodes, keeping every transaction; None when there
    is none to resolve.

    Each node off the winning fork stops sealing, hands over the raw bytes of every transaction in
    its own blocks above the common ancestor, is rewound there (``debug_setHead``), imports the
    winning blocks (exported by a winning node), and seals again if it was sealing. The transactions
    are then sent to the winning fork again: those it already holds are refused as known (same hash,
    same nonce), the others are mined, so each is included exactly once. ``force`` acts on differing
    heads even while blocks still arrive (used at start, before any validator seals)."""
    verdict = diagnose(views, time.time(), stall_age_for(net.block_period_s))
    if verdict.kind != "deadlock" and not (force and verdict.kind == "forked"):
        return None
    by_name = {n.name: n for n in net.nodes}
    head_of = {v.node: v for v in views}
    winners, losers = choose_sides(views, verdict)
    source = by_name[winners[0]]
    win_head = head_of[source.name]
    progress(f"fork deadlock: {verdict.detail}; rewinding {', '.join(losers)}")
    raws: list[str] = []
    rewound: dict[str, int] = {}
    was_sealing: set[str] = set()
    for name in losers:
        node = by_name[name]
        ancestor = common_ancestor(node.rpc_url, source.rpc_url, head_of[name].number)
        if ancestor < head_of[name].number:
            if rpc_call(node.rpc_url, "eth_mining"):
                was_sealing.add(name)
            rpc_call(node.rpc_url, "miner_stop", [])
            raws.extend(raw_transactions(node.rpc_url, ancestor + 1, head_of[name].number))
            rpc_call(node.rpc_url, "debug_setHead", [hex(ancestor)], timeout=30)
            rewound[name] = ancestor
        import_blocks(run_dir, source, node, ancestor + 1, win_head.number)
    deadline = time.monotonic() + HEAL_SETTLE_S
    pending = set(losers)
    while pending and time.monotonic() < deadline:
        pending = {n for n in pending if head_hash(by_name[n].rpc_url) == head_of[n].hash
                   or head(by_name[n].rpc_url) < win_head.number}
        time.sleep(0.2)
    for name in rewound:  # sealing resumes where it ran: a validator an operator stopped stays stopped
        if name in was_sealing:
            rpc_call(by_name[name].rpc_url, "miner_start", [])
    resent = 0
    for raw in raws:
        try:
            rpc_call(source.rpc_url, "eth_sendRawTransaction", [raw], timeout=5)
            resent += 1
        except ChainUnavailableError as exc:
            if not is_benign_refusal(str(exc)):
                log.warning("a transaction of the rewound fork was refused: %s", exc)
    report = ForkRecovery(at=time.time(), detail=verdict.detail, winning_head=win_head.number,
                          winners=tuple(winners), rewound=rewound, transactions=len(raws),
                          resent=resent, lagging=tuple(sorted(pending)))
    what = ", ".join(f"{n} rewound to {b}" for n, b in rewound.items()) or "no rewind"
    progress(f"fork healed: {what}; "
             f"{len(raws)} transaction(s) of the dropped blocks sent again ({resent} new to the "
             f"winning fork)")
    return report


def common_ancestor(url: str, winner_url: str, start: int) -> int:
    """The highest block at or below ``start`` that both nodes hold with the same hash (0: genesis)."""
    number = start
    while number > 0:
        mine = rpc_call(url, "eth_getBlockByNumber", [hex(number), False])
        theirs = rpc_call(winner_url, "eth_getBlockByNumber", [hex(number), False])
        if mine is not None and theirs is not None and mine["hash"] == theirs["hash"]:
            return number
        number -= 1
    return 0


def raw_transactions(url: str, first: int, last: int) -> list[str]:
    """The signed bytes of every transaction in blocks ``first..last`` of node ``url``."""
    raws: list[str] = []
    for number in range(first, last + 1):
        block = rpc_call(url, "eth_getBlockByNumber", [hex(number), False])
        for tx_hash in (block or {}).get("transactions", []):
            raw = rpc_call(url, "eth_getRawTransactionByHash", [tx_hash])
            if raw:
                raws.append(str(raw))
    return raws


def import_blocks(run_dir: Path, source: ConsortiumNode, target: ConsortiumNode,
                  first: int, last: int) -> None:
    """Copy blocks ``first..last`` from ``source`` to ``target`` (same machine: an RLP file)."""
    if last < first:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / f"blocks-{source.name}-{first}-{last}-{secrets.token_hex(4)}.rlp"
    try:
        rpc_call(source.rpc_url, "admin_exportChain", [str(path), first, last], timeout=60)
        rpc_call(target.rpc_url, "admin_importChain", [str(path)], timeout=60)
    except ChainUnavailableError as exc:
        log.warning("copying blocks %d..%d from %s to %s failed (%s); it syncs them from its peers",
                    first, last, source.name, target.name, exc)
    finally:
        path.unlink(missing_ok=True)
