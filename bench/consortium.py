"""``chainright bench consortium``: the simple-transfer rate and the platform's sale rate of a
consortium network (a temporary one, or the running one with ``--running``), measured in one run.

With ``--engine bft`` the same figures are measured on a temporary Clique network and on a
temporary BFT network (bftd: CometBFT + cosmos/evm) one after the other in the same run, each with
its block time (mean over the blocks' timestamps) and its send-to-final time (one transfer at a
time, from the send until its block is final: committed on BFT, ``confirmations`` deep on Clique).

Both figures come from the same network in the same run, with the validator count and the block
period stated beside them: the machines are shared and noisy, so the ratio of the two means more
than either figure alone.

What the machine limits (``cpu``): over each measured window (the transfers', the sales') the CPU
seconds of the validators (every geth or bftd), of the load generator (this process: no API, indexer
or worker process takes part), of Clique's fork watchdog, and the machine's busy and idle time from
``/proc/stat``, as shares of the cores, CPU ms per transfer and per sale, and a verdict
(``bench/cpu.py``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cpu import IDLE, LOAD_GENERATOR, OTHER, VALIDATORS, CpuMeter
from chain.errors import ChainError
from chain.formatting import format_wei
from chain.ports import free_port

if TYPE_CHECKING:
    from chain.settings import ChainSettings

Say = Callable[[str], None]

JSON_KEYS = {
    "tx_per_s": "simple transfers per second, wall clock (send to last receipt)",
    "chain_tx_per_s": "simple transfers per second over the blocks' timestamps",
    "sales_per_s": "signed marketplace fills per second, wall clock",
    "chain_sales_per_s": "signed marketplace fills per second over the blocks' timestamps",
    "validators": "signers of the network", "block_period_s": "Clique block period",
    "block_time_s": "mean time between blocks, from their timestamps (whole seconds on both engines)",
    "send_to_final_s": "median wall time from sending one transfer until its block is final",
    "confirmations": "blocks on top before a block counts as final (0: committed is final)",
    "api_sales_per_s": "sales per second through an API process on the network (carts of api_cart: one "
                       "POST /market/orders/batch, one POST /market/fill-tx/batch, one fillListings), wall "
                       "clock from the first listing signature to the last receipt",
    "api_single_sales_per_s": "the same one sale per request and transaction (POST /market/orders, "
                              "POST .../fill-tx, fillListing)",
    "api_ratio": "api_sales_per_s / sales_per_s (the network's own rate of pre-signed fills, same run)",
    "api_single_ratio": "api_single_sales_per_s / sales_per_s",
    "api_cpu_ms_per_sale": "the API process's CPU (/proc) per sale one by one; _cart: in carts",
    "api_time_split": "the buyers' threads' time, as shares: signing listings, posting them, getting the "
                      "fill built, signing it, sending it (the wait for the last receipts is not in it)",
    "cpu": "per window (transfers, sales): CPU s per process group, share of the machine's cores "
           "(groups, other processes, idle), cores used, CPU ms per operation, the rate all cores would "
           "carry at that cost (cpu_ceiling_per_s), verdict; cpu.verdict: both",
}

Groups = dict[str, dict[str, int]]
"""``{group: {process name: pid}}`` of the processes a window's CPU is measured for."""


def _sale_figures(urls: list[str], chain_id: int, period_s: float, sales: int, say: Say,
                  poa: bool = True, meter: CpuMeter | None = None, api_sales: int = 0) -> dict[str, Any]:
    """Deploy every family to the network (fresh registry in a temporary folder), then run the sale
    bench; with ``api_sales``, then sell that many through the platform's API on the same network."""
    from bench.sales import run_sale_bench
    from chain.artifacts import Artifacts
    from chain.connection import connect
    from chain.deploy import deploy_to_chains
    from chain.deployments import DeploymentRegistry
    from chain.settings import ChainSettings

    with tempfile.TemporaryDirectory(prefix="chainright-bench-platform-") as tmp:
        settings = ChainSettings(environment="test", data_dir=Path(tmp), home_rpc_url=urls[0],
                                 home_chain_id=chain_id, home_poa=poa, remote_port=free_port(),
                                 persist_state=False)
        say("sale bench: deploying the platform's contracts to the network")
        deploy_to_chains(settings, [settings.spec("home")], progress=say)
        deployed = DeploymentRegistry(settings.deployments_file).for_chain(chain_id)
        addresses = {n: d.address for n, d in deployed.items()}
        figures = run_sale_bench(connect(settings.spec("home")), urls, Artifacts.load(), addresses,
                                 count=sales, period_s=period_s, progress=say, meter=meter)
        result: dict[str, Any] = {
            f"sale_{k}" if k in ("buyers", "nodes", "elapsed_s", "first_block", "last_block", "blocks",
                                 "sign_s", "cart", "transactions") else k: v
            for k, v in figures.as_dict().items()}
        if api_sales > 0:
            result.update(through_api_ratios(_through_api(settings, Path(tmp), api_sales, say),
                                             result["sales_per_s"]))
    return result


API_CART = 10
"""Listings per cart in the through-the-API run (as ``chainright bench``'s e2e run)."""

API_SALES_MAX = 1000
"""The through-the-API run mints twice its sales in one transaction: kept within a block's gas."""


def _through_api(settings: ChainSettings, data_dir: Path, sales: int, say: Say) -> dict[str, Any]:
    """``sales`` sales one by one, then ``sales`` in carts, through an API process (``chainright api
    run``) whose home chain is the network: the e2e run of ``chainright bench`` on this network. The
    API's remote chain is a temporary anvil (KYC approvals are written to both chains), never part of
    the figures."""
    from bench.platform import NetworkPlatform, e2e_sales_per_s
    from chain.deploy import deploy_to_chains
    from devnet.anvil import NodeManager

    if sales > API_SALES_MAX:
        raise ValueError(f"at most {API_SALES_MAX} sales through the API (it mints twice as many tokens "
                         "in one transaction)")
    remote = settings.spec("remote")
    manager = NodeManager(settings, progress=say)
    say("through the API: a temporary remote anvil for the API's second chain (not measured)")
    manager.start([remote])
    try:
        deploy_to_chains(settings, [remote], progress=say)
        return e2e_sales_per_s(NetworkPlatform(settings, data_dir), sales, say, buyers=4, cart=API_CART)
    finally:
        manager.stop(["remote"])


def through_api_ratios(e2e: dict[str, Any], chain_sales_per_s: float) -> dict[str, Any]:
    """The through-the-API figures under ``api_*`` keys, and their ratios to the sales the network
    settled alone (pre-signed fills, ``sales_per_s``) in the same run."""
    out = {
        "api_sales": e2e["e2e_sales"], "api_buyers": e2e["e2e_buyers"], "api_cart": e2e["e2e_batch_size"],
        "api_single_sales_per_s": e2e["e2e_single_sales_per_s"], "api_sales_per_s": e2e["e2e_sales_per_s"],
        "api_cpu_ms_per_sale": e2e["api_cpu_ms_per_sale"],
        "api_cpu_ms_per_sale_cart": e2e["api_cpu_ms_per_sale_cart"],
        "api_single_gas_per_sale": e2e["e2e_single_gas_per_sale"],
        "api_gas_per_sale": e2e["e2e_gas_per_sale"],
        "api_single_seconds": e2e["e2e_single_seconds"], "api_seconds": e2e["e2e_seconds"],
        "api_single_time_split": e2e["e2e_single_time_split"], "api_time_split": e2e["e2e_time_split"],
    }
    if chain_sales_per_s > 0:
        out["api_single_ratio"] = round(out["api_single_sales_per_s"] / chain_sales_per_s, 3)
        out["api_ratio"] = round(out["api_sales_per_s"] / chain_sales_per_s, 3)
    return out


def _measure(urls: list[str], chain_id: int, period_s: float, count: int, sales: int,
             say: Say, poa: bool = True, groups: Groups | None = None, api_sales: int = 0) -> dict[str, Any]:
    from bench.transfers import run_transfer_bench

    meters = {"transfers": CpuMeter(groups or {}), "sales": CpuMeter(groups or {})}
    result: dict[str, Any] = run_transfer_bench(urls, count=count, period_s=period_s, progress=say,
                                                meter=meters["transfers"]).as_dict()
    if sales > 0:
        result.update(_sale_figures(urls, chain_id, period_s, sales, say, poa, meters["sales"], api_sales))
    if groups:
        windows = {name: meters[name].report(ops) for name, ops in (("transfers", count), ("sales", sales))}
        cpu: dict[str, Any] = {name: w for name, w in windows.items() if w is not None}
        cpu["verdict"] = "; ".join(f"{name}: {w['verdict']}" for name, w in cpu.items())
        result["cpu"] = cpu
    return result


def cpu_groups(validators: dict[str, int | None], watchdog: int | None = None) -> Groups:
    """The process groups of a consortium bench: the validators, this process (the load generator)
    and, on Clique, the fork watchdog."""
    groups: Groups = {VALIDATORS: {name: pid for name, pid in validators.items() if pid is not None},
                      LOAD_GENERATOR: {"bench": os.getpid()}}
    if watchdog is not None:
        groups["watchdog"] = {"watchdog": watchdog}
    return groups


def _clique_groups(consortium: Any) -> Groups:
    status = consortium.watchdog_status()
    watchdog = int(status["pid"]) if status and status.get("running") else None
    nodes = {}
    for node in consortium.running_nodes():
        rec = consortium.running(node.index)
        nodes[node.name] = rec.pid if rec is not None else None
    return cpu_groups(nodes, watchdog)


def block_time(url: str, blocks: int = 30) -> float:
    """Mean seconds between the last ``blocks`` blocks, from their header timestamps."""
    from chain.rpc import rpc_call

    head = int(rpc_call(url, "eth_blockNumber"), 16)
    low = max(1, head - blocks)
    if head <= low:
        return 0.0
    first = int(rpc_call(url, "eth_getBlockByNumber", [hex(low), False])["timestamp"], 16)
    last = int(rpc_call(url, "eth_getBlockByNumber", [hex(head), False])["timestamp"], 16)
    return round((last - first) / (head - low), 3)


def send_to_final(url: str, confirmations: int, *, samples: int = 5, sender_index: int = 9,
                  timeout_s: float = 60.0) -> list[float]:
    """Wall seconds from sending one transfer until its block has ``confirmations`` blocks on top
    (0: until it is in a block, which on BFT is committed and final); one sample at a time."""
    import time

    from bench.transfers import TIP_WEI, TRANSFER_GAS, wait_mined
    from chain.devaccounts import dev_account
    from chain.rpc import rpc_call

    account = dev_account(sender_index)
    chain_id = int(rpc_call(url, "eth_chainId"), 16)
    out: list[float] = []
    for _ in range(samples):
        nonce = int(rpc_call(url, "eth_getTransactionCount", [account.address, "pending"]), 16)
        head = rpc_call(url, "eth_getBlockByNumber", ["latest", False])
        base_fee = int(head.get("baseFeePerGas") or "0x0", 16)
        signed = account.sign_transaction({
            "chainId": chain_id, "nonce": nonce, "to": account.address, "value": 1, "gas": TRANSFER_GAS,
            "maxFeePerGas": 4 * base_fee + TIP_WEI, "maxPriorityFeePerGas": TIP_WEI, "type": 2})
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        rpc_call(url, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
        wait_mined(url, {account.address: nonce + 1}, deadline)
        receipt = rpc_call(url, "eth_getTransactionReceipt", ["0x" + bytes(signed.hash).hex()], timeout=60)
        if receipt is None:
            raise ChainError(f"the transfer from {account.address} was not mined within {timeout_s:.0f}s")
        final = int(receipt["blockNumber"], 16) + confirmations
        while int(rpc_call(url, "eth_blockNumber"), 16) < final and time.monotonic() < deadline:
            time.sleep(0.02)
        out.append(round(time.perf_counter() - started, 3))
    return out


def _finality(url: str, confirmations: int, samples: int) -> dict[str, Any]:
    import statistics

    times = send_to_final(url, confirmations, samples=samples)
    return {"confirmations": confirmations, "block_time_s": block_time(url),
            "send_to_final_s": round(statistics.median(times), 3), "send_to_final_samples_s": times}


def bench_clique(*, count: int, sales: int, validators: int, period: int, say: Say,
                 finality_samples: int = 5) -> dict[str, Any]:
    """The figures of a temporary Clique network, with its block time and send-to-final time."""
    from devnet.consortium import GETH_VERSION, Consortium, ConsortiumSettings, find_free_base_port
    from devnet.consortium.clique import confirmations_for

    with tempfile.TemporaryDirectory(prefix="chainright-bench-") as tmp:
        settings = ConsortiumSettings(data_dir=Path(tmp), block_period_s=period,
                                      base_port=find_free_base_port(validators))
        consortium = Consortium(settings, progress=say)
        try:
            consortium.up(validators)
            urls = [n.rpc_url for n in consortium.running_nodes()]
            figures = _measure(urls, settings.chain_id, period, count, sales, say,
                               groups=_clique_groups(consortium))
            figures.update(_finality(urls[0], confirmations_for(validators), finality_samples))
        finally:
            consortium.down()
    return {"network": f"geth {GETH_VERSION} Clique (patched), loopback", "engine": "clique",
            "validators": validators, "block_period_s": period, **figures}


def bench_bft(*, count: int, sales: int, validators: int, block_time_s: float, say: Say,
              finality_samples: int = 5) -> dict[str, Any]:
    """The figures of a temporary BFT network (bftd), with its block time and send-to-final time."""
    from devnet.bft import BftNetwork, BftSettings

    with tempfile.TemporaryDirectory(prefix="chainright-bench-bft-") as tmp:
        settings = BftSettings(data_dir=Path(tmp), validators=validators, block_time_s=block_time_s,
                               base_port=_free_block(10 * validators))
        net = BftNetwork(settings)
        try:
            say(f"starting a {validators}-validator BFT network in {tmp}")
            net.create()
            net.up()
            urls = [n.rpc_url for n in net.nodes]
            groups = cpu_groups({n.name: net.pid_of(n.index) for n in net.nodes})
            figures = _measure(urls, settings.chain_id, block_time_s, count, sales, say, poa=False,
                               groups=groups)
            figures.update(_finality(urls[0], 0, finality_samples))
        finally:
            net.down()
    return {"network": "bftd (CometBFT + cosmos/evm v0.7.3), loopback", "engine": "bft",
            "validators": validators, "block_period_s": block_time_s, **figures}


def _free_block(span: int, low: int = 20000) -> int:
    from devnet.consortium import find_free_base_port
    from devnet.consortium.settings import PORTS_PER_NODE

    # find_free_base_port checks PORTS_PER_NODE ports per node: ask for enough nodes to cover span
    return find_free_base_port(-(-span // PORTS_PER_NODE), low=low)


def bench_engines(*, count: int, sales: int, validators: int, period: int, say: Say) -> dict[str, Any]:
    """Clique and BFT in the same run, one after the other (never both at once on 2 cores); an engine
    that cannot run here is reported with the reason instead of its figures."""
    from chain.errors import NodeError

    def clique() -> dict[str, Any]:
        return bench_clique(count=count, sales=sales, validators=validators, period=period, say=say)

    def bft() -> dict[str, Any]:
        return bench_bft(count=count, sales=sales, validators=validators, block_time_s=float(period), say=say)

    runs: list[tuple[str, Callable[[], dict[str, Any]]]] = [("clique", clique), ("bft", bft)]
    result: dict[str, Any] = {}
    for name, run in runs:
        say(f"--- {name} ---")
        try:
            result[name] = run()
        except (NodeError, ChainError) as exc:
            result[name] = {"engine": name, "error": " ".join(str(exc).split())[-600:]}
    return {"engines": result}


def summary_engines(result: dict[str, Any]) -> str:
    """Both engines' lines, then the finality figures side by side."""
    lines = []
    for name, figures in result["engines"].items():
        lines.append(f"== {name} ==")
        if "error" in figures:
            lines.append(f"{'not measured':<16}{figures['error']}")
            continue
        lines.append(summary(figures))
        lines.append(f"{'finality':<16}block time {figures['block_time_s']}s [block_time_s], send to final "
                     f"{figures['send_to_final_s']}s median of {len(figures['send_to_final_samples_s'])} "
                     f"[send_to_final_s] at {figures['confirmations']} confirmations")
    return "\n".join(lines)


def bench_consortium(*, count: int, sales: int, validators: int, period: int, running: bool,
                     say: Say, api_sales: int = 0) -> dict[str, Any]:
    """Measure; returns the JSON report (keys explained in ``JSON_KEYS``)."""
    from devnet.consortium import GETH_VERSION, Consortium, ConsortiumSettings, find_free_base_port

    if running:
        consortium = Consortium(ConsortiumSettings())
        net = consortium.require_network()
        urls = [n.rpc_url for n in consortium.running_nodes()]
        if not urls:
            raise ChainError("no consortium node is running; start it with 'chainright consortium up'")
        figures = _measure(urls, net.chain_id, net.block_period_s, count, sales, say,
                           groups=_clique_groups(consortium), api_sales=api_sales)
        signer_count, net_period = len(consortium.signers()), net.block_period_s
    else:
        with tempfile.TemporaryDirectory(prefix="chainright-bench-") as tmp:
            settings = ConsortiumSettings(data_dir=Path(tmp), block_period_s=period,
                                          base_port=find_free_base_port(validators))
            consortium = Consortium(settings, progress=say)
            try:
                consortium.up(validators)
                urls = [n.rpc_url for n in consortium.running_nodes()]
                figures = _measure(urls, settings.chain_id, period, count, sales, say,
                                   groups=_clique_groups(consortium), api_sales=api_sales)
                signer_count, net_period = len(consortium.signers()), period
            finally:
                consortium.down()
    return {"network": f"geth {GETH_VERSION} Clique (patched), loopback", "validators": signer_count,
            "block_period_s": net_period, **figures}


def cpu_lines(figures: dict[str, Any]) -> list[str]:
    """What the machine limited, one line per measured window and the verdict (none without ``cpu``)."""
    cpu = figures.get("cpu")
    if not cpu:
        return []
    lines = []
    for name in ("transfers", "sales"):
        w = cpu.get(name)
        if w is None:
            continue
        waits = w.get("runqueue_wait_s", {})
        groups = ", ".join(f"{g} {s:.1f} s ({w['share_pct'][g]:.0f}%, {w['cores_used'][g]:.2f} cores"
                           + (f", threads waited {waits[g]:.1f} s for a core" if g in waits else "") + ")"
                           for g, s in w["cpu_s"].items())
        per_op = ", ".join(f"{g} {ms}" for g, ms in w["cpu_ms_per_op"].items())
        largest = ", ".join(f"{o['process']} {o['cpu_s']:.1f} s"
                            for o in w.get("top_other_processes", [])[:3])
        lines.append(f"{'cpu ' + name:<16}{w['cores']} cores {w['machine_busy_pct']:.0f}% busy over "
                     f"{w['window_s']:.1f}s [cpu.{name}]: {groups}, other processes "
                     f"{w['share_pct'][OTHER]:.0f}%{f' (largest: {largest})' if largest else ''}, "
                     f"idle {w['share_pct'][IDLE]:.0f}%; "
                     f"CPU ms per {name[:-1]}: {per_op}; at that cost all {w['cores']} cores would carry "
                     f"{w.get('cpu_ceiling_per_s')} {name}/s [cpu.{name}.cpu_ceiling_per_s]")
    lines.append(f"{'limit':<16}{cpu['verdict']} [cpu.verdict]")
    return lines


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
    if "api_sales_per_s" in result:
        lines.append(
            f"{'through the API':<16}{result['api_sales']} sales by {result['api_buyers']} buyers through an "
            f"API process, each listing posted, its fill built by the API and signed by the buyer: "
            f"one by one {result['api_single_sales_per_s']:.1f} sales/s [api_single_sales_per_s], "
            f"{result.get('api_single_ratio')} of the sales the network settled alone [api_single_ratio]; "
            f"in carts of {result['api_cart']} {result['api_sales_per_s']:.1f} sales/s [api_sales_per_s], "
            f"{result.get('api_ratio')} [api_ratio]; API CPU per sale {result['api_cpu_ms_per_sale']} ms "
            f"one by one, {result['api_cpu_ms_per_sale_cart']} ms in carts")
    lines.extend(cpu_lines(result))
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
