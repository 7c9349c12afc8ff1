"""``chainright bench consortium``: the simple-transfer rate and the platform's sale rate of a
consortium network (a temporary one, or the running one with ``--running``), measured in one run.

Both figures come from the same network in the same run, with the validator count and the block
period stated beside them: the machines are shared and noisy, so the ratio of the two means more
than either figure alone.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chain.errors import ChainError
from chain.formatting import format_wei

Say = Callable[[str], None]

JSON_KEYS = {
    "tx_per_s": "simple transfers per second, wall clock (send to last receipt)",
    "chain_tx_per_s": "simple transfers per second over the blocks' timestamps",
    "sales_per_s": "signed marketplace fills per second, wall clock",
    "chain_sales_per_s": "signed marketplace fills per second over the blocks' timestamps",
    "validators": "signers of the network", "block_period_s": "Clique block period",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sale_figures(urls: list[str], chain_id: int, period_s: int, sales: int, say: Say) -> dict[str, Any]:
    """Deploy every family to the network (fresh registry in a temporary folder), then run the sale bench."""
    from bench.sales import run_sale_bench
    from chain.artifacts import Artifacts
    from chain.connection import connect
    from chain.deploy import deploy_to_chains
    from chain.deployments import DeploymentRegistry
    from chain.settings import ChainSettings

    with tempfile.TemporaryDirectory(prefix="chainright-bench-platform-") as tmp:
        settings = ChainSettings(environment="test", data_dir=Path(tmp), home_rpc_url=urls[0],
                                 home_chain_id=chain_id, home_poa=True, remote_port=_free_port())
        say("sale bench: deploying the platform's contracts to the network")
        deploy_to_chains(settings, [settings.spec("home")], progress=say)
        deployed = DeploymentRegistry(settings.deployments_file).for_chain(chain_id)
        addresses = {n: d.address for n, d in deployed.items()}
        figures = run_sale_bench(connect(settings.spec("home")), urls, Artifacts.load(), addresses,
                                 count=sales, period_s=period_s, progress=say)
    return {f"sale_{k}" if k in ("buyers", "nodes", "elapsed_s", "first_block", "last_block", "blocks",
                                 "sign_s") else k: v for k, v in figures.as_dict().items()}


def _measure(urls: list[str], chain_id: int, period_s: int, count: int, sales: int,
             say: Say) -> dict[str, Any]:
    from bench.transfers import run_transfer_bench

    result: dict[str, Any] = run_transfer_bench(urls, count=count, period_s=period_s, progress=say).as_dict()
    if sales > 0:
        result.update(_sale_figures(urls, chain_id, period_s, sales, say))
    return result


def bench_consortium(*, count: int, sales: int, validators: int, period: int, running: bool,
                     say: Say) -> dict[str, Any]:
    """Measure; returns the JSON report (keys explained in ``JSON_KEYS``)."""
    from devnet.consortium import GETH_VERSION, Consortium, ConsortiumSettings, find_free_base_port

    if running:
        consortium = Consortium(ConsortiumSettings())
        net = consortium.require_network()
        urls = [n.rpc_url for n in consortium.running_nodes()]
        if not urls:
            raise ChainError("no consortium node is running; start it with 'chainright consortium up'")
        figures = _measure(urls, net.chain_id, net.block_period_s, count, sales, say)
        signer_count, net_period = len(consortium.signers()), net.block_period_s
    else:
        with tempfile.TemporaryDirectory(prefix="chainright-bench-") as tmp:
            settings = ConsortiumSettings(data_dir=Path(tmp), block_period_s=period,
                                          base_port=find_free_base_port(validators))
            consortium = Consortium(settings, progress=say)
            try:
                consortium.up(validators)
                urls = [n.rpc_url for n in consortium.running_nodes()]
                figures = _measure(urls, settings.chain_id, period, count, sales, say)
                signer_count, net_period = len(consortium.signers()), period
            finally:
                consortium.down()
    return {"network": f"geth {GETH_VERSION} Clique (patched), loopback", "validators": signer_count,
            "block_period_s": net_period, **figures}


def summary(result: dict[str, Any]) -> str:
    """The human-readable lines (stderr), naming the JSON key of every figure."""
    v, period = result["validators"], result["block_period_s"]
    lines = [
        f"{'network':<16}{v} validators, {period}s block period ({result['network']})",
        f"{'transfers':<16}{result['transactions']} from {result['senders']} senders via "
        f"{result['nodes']} node(s): "
        f"{result['tx_per_s']:.1f} tx/s wall [tx_per_s], {result['chain_tx_per_s']:.1f} tx/s over block "
        f"timestamps [chain_tx_per_s]; max {result['max_tx_per_block']} in a block",
    ]
    if "sales" in result:
        lines.append(
            f"{'sales':<16}{result['sales']} signed marketplace fills from {result['sale_buyers']} buyers, "
            f"{v} validators, {period}s blocks: {result['sales_per_s']:.1f} sales/s wall [sales_per_s], "
            f"{result['chain_sales_per_s']:.1f} sales/s over block timestamps [chain_sales_per_s]; "
            f"{result['gas_per_sale']} gas each [gas_per_sale], max {result['max_sales_per_block']} "
            f"in a block [max_sales_per_block]; royalties paid {format_wei(result['royalty_wei'])} "
            "[royalty_wei]")
    return "\n".join(lines)


def bench_starts(*, runs: int, validators: int, period: int, say: Say) -> dict[str, Any]:
    """Start a new network ``runs`` times (fresh keys, free ports, the fork watchdog off so that a
    start that wedges counts as a stall), and report how many started, how many stalled (no blocks
    from two distinct validators), how many failed otherwise (with the reason) and how long each
    took to its first two distinct sealers."""
    import statistics
    import time

    from chain.errors import NodeError
    from devnet.consortium import Consortium, ConsortiumSettings, find_free_base_port

    durations: list[float] = []
    stalls: list[str] = []
    failures: list[str] = []
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory(prefix="chainright-start-") as tmp:
            settings = ConsortiumSettings(data_dir=Path(tmp), base_port=find_free_base_port(validators),
                                          validators=validators, block_period_s=period, watchdog=False)
            network = Consortium(settings)
            started = time.monotonic()
            try:
                network.up(validators)
                durations.append(time.monotonic() - started)
                say(f"start {run}/{runs}: sealing by 2 distinct validators after {durations[-1]:.1f}s")
            except NodeError as exc:
                reason = " ".join(str(exc).split())[-600:]
                if "distinct validator" in reason:  # wait_until_sealing: blocks stopped coming
                    stalls.append(reason)
                    say(f"start {run}/{runs}: STALLED: {reason}")
                else:
                    failures.append(reason)
                    say(f"start {run}/{runs}: did not start (not a stall): {reason}")
            finally:
                network.down()
    ordered = sorted(durations)
    return {
        "runs": runs, "started": len(durations), "stalled": len(stalls), "stall_reasons": stalls,
        "failed_to_start": len(failures), "start_failures": failures,
        "validators": validators, "block_period_s": period,
        "first_two_sealers_s": {
            "min": round(ordered[0], 2) if ordered else None,
            "median": round(statistics.median(ordered), 2) if ordered else None,
            "p95": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 2) if ordered else None,
            "max": round(ordered[-1], 2) if ordered else None,
        },
    }
