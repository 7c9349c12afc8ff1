"""``chainright consortium ...``: local geth Clique or bftd (CometBFT) validators (``devnet/``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from chain.errors import ChainError
from chainright.console import dump_json, say, settings_details, wait_for_stop_signal

app = typer.Typer(no_args_is_help=True, help="Run a local consortium network: geth Clique validator nodes, "
                                             "or bftd (CometBFT) validators with --engine bft.")

ENGINES = ("clique", "bft")
EngineOption = Annotated[str, typer.Option(
    "--engine", help="clique (geth, the default) or bft (bftd: CometBFT + cosmos/evm, instant finality).")]


def _engine(name: str) -> str:
    if name not in ENGINES:
        raise ChainError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return name


def _bft(validators: int | None = None) -> Any:
    from devnet.bft import BftNetwork, BftSettings

    try:
        settings = BftSettings() if validators is None else BftSettings(validators=validators)
    except ValidationError as exc:
        raise ChainError(f"invalid BFT settings (CHAINRIGHT_BFT_*): {settings_details(exc)}") from None
    net = BftNetwork(settings)
    if validators is None and net.exists():  # a network laid out earlier keeps its own size
        count = sum(1 for d in settings.data_dir.glob("validator*") if d.is_dir())
        if count and count != settings.validators:
            net = BftNetwork(settings.model_copy(update={"validators": count}))
    return net


def _print_bft_status(net: Any) -> None:
    s = net.settings
    for st in net.status():
        n = st.node
        if not st.running:
            typer.echo(f"{n.name}\t{n.rpc_url}\tstopped")
        elif st.error:
            typer.echo(f"{n.name}\t{n.rpc_url}\tpid {st.pid}\tnot answering ({st.error})")
        else:
            typer.echo(f"{n.name}\t{n.rpc_url}\tpid {st.pid}\tblock {st.height} {(st.head_hash or '')[:10]} "
                       f"({st.head_age_s:.0f}s old)\tpeers {st.peers}")
    typer.echo(f"engine bft (CometBFT): {s.validators} validators, chain {s.chain_id}, "
               f"{s.block_time_s:g}s commit timeout; a committed block is final (confirmations 0)")


def _consortium(*, quiet: bool = False) -> Any:
    from devnet.consortium import Consortium, ConsortiumSettings

    try:
        settings = ConsortiumSettings()
    except ValidationError as exc:
        raise ChainError(f"invalid consortium settings (CHAINRIGHT_CONSORTIUM_*): {settings_details(exc)}"
                         ) from None
    return Consortium(settings, progress=(lambda _: None) if quiet else say)


def _print_status(consortium: Any) -> None:
    net = consortium.require_network()
    signers: list[str] = []
    for st in consortium.status():
        node = st.node
        if not st.running:
            typer.echo(f"{node.name}\t{node.address}\t{node.rpc_url}\tstopped")
            continue
        if st.error:
            typer.echo(f"{node.name}\t{node.address}\t{node.rpc_url}\tpid {st.pid}\t"
                       f"not answering ({st.error})")
            continue
        if not signers:
            signers = consortium.signers(node.rpc_url)
        sealer = net.by_address(st.head_signer) if st.head_signer else None
        head_by = f"{sealer.name if sealer else st.head_signer}" if st.head_signer else "-"
        typer.echo(f"{node.name}\t{node.address}\t{node.rpc_url}\tpid {st.pid}\tblock {st.block} "
                   f"{(st.head_hash or '')[:10]} ({st.head_age_s:.0f}s old)\tpeers {st.peers}\t"
                   f"{'signer' if st.is_signer else 'not a signer'}\thead sealed by {head_by}")
    if signers:
        names = [(n.name if (n := net.by_address(a)) else a) for a in signers]
        typer.echo(f"signers ({len(signers)}): {', '.join(names)}; chain {net.chain_id}, "
                   f"{net.block_period_s}s blocks")
        verdict = consortium.diagnose()
        typer.echo(f"heads: {verdict.kind} ({verdict.detail})")
    watch = consortium.watchdog_status()
    if watch is None:
        typer.echo("fork watchdog: never started here")
    else:
        state = f"running (pid {watch['pid']}), last look: {watch.get('state', '?')}" if watch["running"] \
            else "not running (start the network with 'chainright consortium up')"
        typer.echo(f"fork watchdog: {state}; {len(watch.get('recoveries', []))} recovery(ies)")
        for rec in watch.get("recoveries", [])[-3:]:
            when = datetime.fromtimestamp(rec["at"], UTC).isoformat(timespec="seconds")
            rewound = ", ".join(f"{n} to block {b}" for n, b in rec["rewound"].items()) or "none"
            typer.echo(f"  {when}: rewound {rewound}; {rec['transactions']} transaction(s) of the "
                       f"dropped blocks sent again ({rec['resent']} new)")


@app.command("up")
def consortium_up(
    validators: Annotated[int | None, typer.Option(
        "--validators", "-n", min=1, max=32,
        help="Validators of a new network (default CHAINRIGHT_CONSORTIUM_VALIDATORS, 4).")] = None,
    detach: Annotated[bool, typer.Option("--detach", "-d",
                                         help="Leave the nodes running and return.")] = False,
    engine: EngineOption = "clique",
) -> None:
    """Create (first time) and start the consortium network; wait until several validators seal."""
    if _engine(engine) == "bft":
        net = _bft(validators)
        if not net.exists():
            say(f"creating a {net.settings.validators}-validator BFT network in {net.settings.data_dir}")
            net.create()
        net.up()
        _print_bft_status(net)
        say("point the platform's home chain at it with: eval \"$(chainright consortium env --engine bft)\"")
        if detach:
            say("validators left running; stop them with 'chainright consortium down --engine bft'")
            return
        say("BFT network running; press Ctrl-C to stop it")
        with wait_for_stop_signal() as stop:
            stop.wait()
        net.down()
        return
    consortium = _consortium()
    consortium.up(validators)
    _print_status(consortium)
    say("point the platform's home chain at it with: eval \"$(chainright consortium env)\"")
    if detach:
        say("nodes left running; stop them with 'chainright consortium down'")
        return
    say("consortium running; press Ctrl-C to stop it")
    with wait_for_stop_signal() as stop:
        stop.wait()
    consortium.down()


@app.command("down")
def consortium_down(
    node: Annotated[list[int] | None, typer.Option(
        "--node", help="Stop only this node (repeatable).")] = None,
    engine: EngineOption = "clique",
) -> None:
    """Stop the consortium nodes that chainright started (and only those)."""
    if _engine(engine) == "bft":
        net = _bft()
        stopped = [net.node(i).name for i in node if net.stop(i)] if node else net.down()
        say(f"stopped: {', '.join(stopped)}" if stopped else "no BFT validator was running")
        return
    stopped = _consortium().down(node or None)
    say(f"stopped: {', '.join(stopped)}" if stopped else "no consortium node was running")


@app.command("start-node")
def consortium_start_node(
    index: Annotated[int, typer.Argument(help="Node index (node<i>, or validator<i> with --engine bft).")],
    engine: EngineOption = "clique",
) -> None:
    """Start one stopped node again; it catches up with the others by itself (bft: the command waits
    until it has)."""
    if _engine(engine) == "bft":
        net = _bft()
        pid, height = net.start_node(index)
        typer.echo(f"{net.node(index).name}\tpid {pid}\tblock {height}")
        return
    rec = _consortium().start_node(index)
    typer.echo(f"{rec.name}\tpid {rec.pid}")


@app.command("status")
def consortium_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")
                       ] = False,
    engine: EngineOption = "clique",
) -> None:
    """Nodes, their heads, peers and signer status, and the current signer set."""
    if _engine(engine) == "bft":
        net = _bft()
        if not net.exists():
            raise ChainError(f"no BFT network in {net.settings.data_dir}; start one with "
                             "'chainright consortium up --engine bft'")
        if not as_json:
            _print_bft_status(net)
            return
        s = net.settings
        dump_json({"engine": "bft", "chain_id": s.chain_id, "block_time_s": s.block_time_s,
                   "nodes": [{"name": st.node.name, "rpc_url": st.node.rpc_url, "pid": st.pid,
                              "running": st.running, "block": st.height, "head_age_s": st.head_age_s,
                              "peers": st.peers, "error": st.error} for st in net.status()]})
        return
    consortium = _consortium(quiet=True)
    if not as_json:
        _print_status(consortium)
        return
    net = consortium.require_network()
    nodes: list[dict[str, Any]] = []
    signers: list[str] = []
    for st in consortium.status():
        if st.running and not st.error and not signers:
            signers = consortium.signers(st.node.rpc_url)
        nodes.append({"name": st.node.name, "address": st.node.address, "rpc_url": st.node.rpc_url,
                      "pid": st.pid, "running": st.running, "block": st.block, "head_age_s": st.head_age_s,
                      "peers": st.peers, "is_signer": st.is_signer, "head_signer": st.head_signer,
                      "error": st.error})
    dump_json({"chain_id": net.chain_id, "block_period_s": net.block_period_s, "signers": signers,
               "nodes": nodes})


@app.command("env")
def consortium_env(
    chain: Annotated[str, typer.Option("--chain", "-c", help="Which platform chain to point: home or remote.")
                     ] = "home",
    engine: EngineOption = "clique",
) -> None:
    """Print the CHAINRIGHT_CHAIN_* exports that make the platform use the consortium."""
    import shlex

    source = _bft() if _engine(engine) == "bft" else _consortium(quiet=True)
    for key, value in source.env(chain).items():
        typer.echo(f"export {key}={shlex.quote(value)}")


BFT_FIXED_SET = ("the BFT engine's validator set is fixed in its genesis: bftd wires no staking or "
                 "governance module, so no transaction or vote can change it (tools/bft/README.md). To add "
                 "or remove a member, stop the network and lay out a new one with the new set (a "
                 "coordinated restart with a new genesis)")


@app.command("add-node")
def consortium_add_node(engine: EngineOption = "clique") -> None:
    """Create and start one more node (new keys); vote it in with 'consortium propose --add'.
    Refused with --engine bft (its validator set is fixed in genesis)."""
    if _engine(engine) == "bft":
        raise ChainError(f"add-node is not available on the bft engine: {BFT_FIXED_SET}")
    node = _consortium().add_node()
    typer.echo(f"{node.name}\t{node.address}\t{node.rpc_url}")
    say(f"{node.name} syncs but cannot seal yet; make it a validator with "
        f"'chainright consortium propose --add {node.address}'")


@app.command("propose")
def consortium_propose(
    add: Annotated[str | None, typer.Option("--add", help="Vote this address in as a signer.")] = None,
    remove: Annotated[str | None, typer.Option("--remove", help="Vote this signer out.")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the signer set changed.")] = True,
    engine: EngineOption = "clique",
) -> None:
    """Vote a validator in or out on every running signer node (a majority must vote). Refused with
    --engine bft (its validator set is fixed in genesis)."""
    if _engine(engine) == "bft":
        raise ChainError(f"propose is not available on the bft engine: {BFT_FIXED_SET}")
    if (add is None) == (remove is None):
        raise ChainError("give exactly one of --add ADDRESS or --remove ADDRESS")
    address = add if add is not None else remove
    assert address is not None
    from eth_utils.address import is_address

    if not is_address(address):
        raise ChainError(f"{address!r} is not an address")
    voters = _consortium().propose(address, add=add is not None, wait=wait)
    typer.echo(f"voted on: {', '.join(voters)}")
