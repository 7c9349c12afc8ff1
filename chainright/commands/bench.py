"""``chainright bench [gas|profile|scale|bridge|consortium|consortium-starts]``: measure the platform
(``bench/``)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from bridge.errors import BridgeError
from chain.errors import ChainError
from chainright.console import say

app = typer.Typer(help="Measure the platform (gas, throughput, latency).")


@app.callback(invoke_without_command=True)
def bench_all(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="Small counts (a smoke run; figures are rough).")
                     ] = False,
    transfers: Annotated[int | None, typer.Option(help="Transactions per throughput run (1000).")] = None,
    seconds: Annotated[float | None, typer.Option(help="Seconds per API read run (5).")] = None,
    sales: Annotated[int | None, typer.Option(help="End-to-end sales through the API (200).")] = None,
    buyers: Annotated[int, typer.Option(help="Buyers buying concurrently (1-4).", min=1, max=4)] = 4,
    cart: Annotated[int, typer.Option(help="Listings per batched sale (2-50).", min=2, max=50)] = 10,
    bridge_count: Annotated[int | None, typer.Option(help="Sequential bridge transfers (latency, 30).")
                            ] = None,
    bridge_batch: Annotated[int | None, typer.Option(help="Bridge transfers sent together (50).")] = None,
    index_events: Annotated[int | None, typer.Option(
        help="Transfers in each indexer history, sparse and dense (20000).")] = None,
) -> None:
    """Measure everything in one run on fresh local chains and print one report: gas, raw transfers/s,
    the chain's own rate of pre-signed sales (one by one and in carts), end-to-end sales/s (API + chain)
    and their ratio to it, CPU ms per sale of the API, the chain and the client with what bounded each
    run, indexer events/s, API reads/s beside bare FastAPI, bridge relay latency (p50, p95) and
    throughput (keys: bench/README.md). Progress goes to stderr."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from bench.platform import run_report

    def pick(value: Any, full: Any, small: Any) -> Any:
        return value if value is not None else small if quick else full

    report = run_report(transfers=pick(transfers, 1000, 50), seconds=pick(seconds, 5.0, 1.0),
                        sales=pick(sales, 200, 8), buyers=buyers, bridge_count=pick(bridge_count, 30, 3),
                        bridge_batch=pick(bridge_batch, 50, 5), say=say, cart=cart,
                        index_events=pick(index_events, 20_000, 50))
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key, value in report.items():
        if key not in ("gas", "presigned_cpu", "e2e_cpu"):  # the CPU windows: in the JSON below
            say(f"{key:<28} {value}")
    typer.echo(json.dumps(report, indent=2))


@app.command("profile")
def bench_profile(
    sales: Annotated[int, typer.Option(help="Sales one by one, then as many in carts.", min=1)] = 40,
    cart: Annotated[int, typer.Option(help="Listings per cart (2-50).", min=2, max=50)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
) -> None:
    """Where the API spends a sale: per route, wall and CPU ms, SQL statements, commits and
    JSON-RPC requests per request (one buyer, so requests never overlap), and with py-spy on the
    PATH the functions holding most samples. On a fresh local platform."""
    import json

    from bench.profile import run_profile, table

    report = run_profile(sales, cart, say)
    typer.echo(json.dumps(report) if as_json else table(report))


@app.command("scale")
def bench_scale(
    database_url: Annotated[str, typer.Option(
        help="The database both API processes share (PostgreSQL: postgresql+psycopg://...).")],
    sales: Annotated[int, typer.Option(help="Sales per run (one by one, then in carts).", min=1)] = 100,
) -> None:
    """Sales through 1 and then 2 API processes sharing one database, on a fresh local platform:
    sales per second and API CPU per sale for each (JSON on stdout)."""
    import json

    from bench.platform import LocalPlatform, scale_out

    with LocalPlatform(say) as platform:
        typer.echo(json.dumps(scale_out(platform, sales, database_url, say)))


@app.command("gas")
def bench_gas(
    write_snapshot: Annotated[bool, typer.Option(
        "--write-snapshot", help="Save the figures as the committed snapshot (gas-snapshot.json).")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 1 when an operation grew more than 2% over the snapshot.")] = False,
) -> None:
    """Whole-transaction gas per operation on a fresh anvil, as one JSON object on stdout."""
    import json

    from bench.gas import compare, read_snapshot, run_gas_bench
    from bench.gas import write_snapshot as save
    from chain.artifacts import compile_project

    artifacts = compile_project()
    figures = run_gas_bench(artifacts, progress=say)
    typer.echo(json.dumps(figures, indent=2))
    if write_snapshot:
        save(figures)
        say("snapshot written: gas-snapshot.json")
    if check:
        diff = compare(read_snapshot(), figures)
        if not diff.ok:
            say("gas snapshot check failed:\n" + diff.describe())
            raise typer.Exit(1)
        say("gas snapshot check passed")


@app.command("bridge")
def bench_bridge(
    count: Annotated[int, typer.Option(help="Transfers for the latency figures (one at a time).")] = 30,
    batch: Annotated[int, typer.Option(help="Transfers sent together for the throughput figure.")] = 50,
    block_time: Annotated[float | None, typer.Option(
        "--block-time", help="Seconds per block (default: one block per transaction).")] = None,
    confirmations: Annotated[int, typer.Option(help="Blocks validators wait on each chain.")] = 0,
) -> None:
    """Relay latency (p50, p95) and throughput with the real relayer processes on two fresh anvils:
    JSON on stdout, a short table on stderr."""
    import json

    from bench.bridge import check_bench_options, run_bridge_bench
    from chain.artifacts import compile_project

    if count < 1 or batch < 1:
        raise BridgeError("--count and --batch must be at least 1")
    check_bench_options(block_time=block_time, confirmations=confirmations)

    def argv(role: str) -> list[str]:
        base = [sys.executable, "-m", "chainright", "relayer", "run", "--role"]
        return [*base, "submitter"] if role == "submitter" else \
            [*base, "validator", "--validator-index", role.rsplit("-", 1)[1]]

    result = run_bridge_bench(compile_project(), argv, count=count, batch=batch, block_time=block_time,
                              confirmations=confirmations, progress=say)
    typer.echo(json.dumps(result.as_dict(), indent=2))
    say(result.table())


@app.command("consortium")
def bench_consortium(
    count: Annotated[int, typer.Option(help="Transfers to send.", min=1)] = 2000,
    sales: Annotated[int, typer.Option(help="Signed marketplace fills to send (0: skip).", min=0)] = 1500,
    validators: Annotated[int, typer.Option(help="Validators of the temporary network.", min=1, max=32)] = 4,
    period: Annotated[int, typer.Option(help="Block period (s) of the temporary network.", min=1)] = 1,
    running: Annotated[bool, typer.Option(
        "--running", help="Measure the running consortium (CHAINRIGHT_CONSORTIUM_*) instead.")] = False,
    engine: Annotated[str, typer.Option(
        help="clique (default), or bft: a temporary Clique network and a temporary BFT network (bftd) "
             "in the same run, each with its block time and send-to-final time.")] = "clique",
    api_sales: Annotated[int, typer.Option(
        help="Then sell this many one by one and as many in carts through an API process on the same "
             "network (api_*_sales_per_s, api_ratio: the share of the network's own sale rate; 0: skip; "
             "clique only).", min=0, max=1000)] = 1000,
) -> None:
    """Simple-transfer rate and sale rate (signed marketplace fills) of a consortium network, then
    sales through the platform's API on it, as JSON on stdout (tx_per_s, chain_tx_per_s, sales_per_s,
    chain_sales_per_s, api_sales_per_s, api_ratio, validators, block_period_s;
    with --engine bft: {"engines": {"clique": ..., "bft": ...}} adding block_time_s, send_to_final_s);
    cpu: per window, CPU s of the validators and the load generator, shares of the cores, a verdict)."""
    import json

    from bench.consortium import bench_consortium as measure
    from bench.consortium import bench_engines, summary, summary_engines

    if engine not in ("clique", "bft"):
        raise ChainError(f"unknown engine {engine!r}; choose clique or bft")
    if engine == "bft":
        if running:
            raise ChainError("--engine bft measures temporary networks of both engines; drop --running")
        both = bench_engines(count=count, sales=sales, validators=validators, period=period, say=say)
        typer.echo(json.dumps(both, indent=2))
        say(summary_engines(both))
        return

    if api_sales and not sales:
        raise ChainError("--api-sales compares with the network's own sale rate: give --sales too, "
                         "or --api-sales 0")
    result = measure(count=count, sales=sales, validators=validators, period=period, running=running, say=say,
                     api_sales=api_sales)
    typer.echo(json.dumps(result, indent=2))
    say(summary(result))


@app.command("consortium-starts")
def bench_consortium_starts(
    runs: Annotated[int, typer.Option(help="New networks to start, one after the other.", min=1)] = 30,
    validators: Annotated[int, typer.Option(help="Validators of each network.", min=1, max=32)] = 4,
    period: Annotated[int, typer.Option(help="Block period (s).", min=1)] = 1,
) -> None:
    """Start a new consortium network RUNS times (watchdog off) and print, as JSON, how many started,
    how many stalled, how many failed otherwise, and the time to the first two distinct sealers; exit 1
    when any start stalled or failed."""
    import json

    from bench.consortium import bench_starts

    result = bench_starts(runs=runs, validators=validators, period=period, say=say)
    typer.echo(json.dumps(result, indent=2))
    if result["stalled"] or result["failed_to_start"]:
        raise typer.Exit(1)


@app.command("soak")
def soak_command(
    minutes: Annotated[float, typer.Option(help="How long to drive traffic (a fraction is fine).",
                                           min=0.05)] = 30.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    settle: Annotated[float, typer.Option(help="Seconds to wait at the end for the relayer and the indexer.")]
    = 180.0,  # bench.soak.SETTLE_TIMEOUT_S
) -> None:
    """Drive mixed traffic through the running platform (`chainright up`) for N minutes and report
    operations done, failed and lost, memory of every process and the sale rate per minute."""
    import json

    from api.settings import ApiSettings
    from bench.soak import SoakError, run_soak, summary
    from chain.settings import ChainSettings

    api = ApiSettings()
    chains = ChainSettings()

    try:
        report = run_soak(f"http://{api.host}:{api.port}", chains, minutes=minutes, say=say,
                          settle_timeout_s=settle)
    except SoakError as exc:
        say(f"error: {exc}")
        raise typer.Exit(1) from None
    if json_out:
        print(json.dumps(report, indent=2))
    else:
        for line in summary(report):
            print(line)
    if report["lost"] or report["failed"]:
        if json_out:  # the report went to standard output: say here too what failed
            for error in report["errors"][:5]:
                say(f"error: {error}")
        raise typer.Exit(1)
