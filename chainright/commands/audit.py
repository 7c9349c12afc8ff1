"""``chainright audit report``: a collection's audit report, reconciled against the chain.

Exit codes: 0 the report was written and the index matches the chain; 3 the report was written
but reconciliation found mismatches (listed in the output and the report); 1 nothing was written
(a bad address, window, date or collection, an unreachable chain or database); 2 a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chain.errors import AuditError
from chain.settings import ChainSettings, ChainSpec
from chainright.console import api_settings, chain_settings, say

EXIT_MISMATCH = 3
FORMATS = ("csv", "html")

app = typer.Typer(no_args_is_help=True, help="Audit reports for auditors and operators.")


def _chain_spec(settings: ChainSettings, chain: str) -> ChainSpec:
    specs = settings.specs("all")
    if chain in ("home", "remote"):
        return settings.spec(chain)  # type: ignore[arg-type]
    if chain.isdigit():
        for spec in specs:
            if spec.chain_id == int(chain):
                return spec
    known = ", ".join(f"{s.name} ({s.chain_id})" for s in specs)
    raise AuditError(f"--chain {chain!r} is not a configured chain; use one of {known}")


@app.command("report")
def audit_report(
    collection: Annotated[str, typer.Option(help="The collection's address.")],
    from_: Annotated[
        str, typer.Option("--from", help="First block, or a UTC date/time (2026-11-22[T13:05Z]).")
    ],
    to: Annotated[
        str, typer.Option("--to", help="Last block, or a UTC date/time (a date covers the whole day).")
    ],
    chain: Annotated[str, typer.Option("--chain", "-c", help="home, remote or a chain id.")] = "home",
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the report's files.")] = Path(
        "audit-report"
    ),
    fmt: Annotated[str, typer.Option("--format", help="csv, html or csv,html.")] = "csv,html",
) -> None:
    """Sales, royalties per recipient, license income and bridge movements of a collection over a
    window, from the index, reconciled against the chain's logs and receipts. Exits 3 on mismatches."""
    from web3 import Web3

    from chain.artifacts import Artifacts
    from chain.connection import connect
    from chain.deployments import DeploymentRegistry
    from record.audit import make_report, parse_point, render_csv, render_html
    from record.audit.window import check_order
    from record.index.decoder import EventDecoder

    if not Web3.is_address(collection):
        raise AuditError(
            f"--collection {collection!r} is not an address (0x followed by 40 hex digits, "
            "with a valid checksum if mixed-case)"
        )
    formats = {f.strip().lower() for f in fmt.split(",") if f.strip()}
    if not formats or formats - set(FORMATS):
        raise AuditError(f"--format {fmt!r}: choose csv, html or csv,html")
    start, stop = parse_point(from_, "--from", end=False), parse_point(to, "--to", end=True)
    check_order(start, stop)
    settings = chain_settings()
    spec = _chain_spec(settings, chain)
    web3 = connect(spec)

    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    url = api_settings().effective_database_url
    engine = create_engine(url)
    artifacts = Artifacts.load()
    decoder = EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()})
    platform = {
        name: d.address
        for name, d in DeploymentRegistry(settings.deployments_file).for_chain(spec.chain_id).items()
    }
    try:
        report = make_report(
            web3, engine, decoder, spec.chain_id, collection, start, stop, platform, progress=say
        )
    except SQLAlchemyError as exc:
        raise AuditError(
            f"cannot read the index database ({type(exc).__name__}); check "
            "CHAINRIGHT_API_DATABASE_URL and run 'chainright indexer run --once'"
        ) from None
    finally:
        engine.dispose()

    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "csv" in formats:
        for name, text in render_csv(report).items():
            (out / name).write_text(text)
            written.append(name)
    if "html" in formats:
        (out / "report.html").write_text(render_html(report))
        written.append("report.html")
    typer.echo(
        f"audit report of {report.collection} on chain {report.chain_id}, blocks "
        f"{report.window.from_block}-{report.window.to_block}: {len(report.sales)} sales, "
        f"{len(report.licenses)} licenses, {len(report.bridge)} bridge movements"
    )
    for t in report.totals:
        c = report.currency(t.currency)
        typer.echo(f"  {c.symbol}: volume {t.volume}, royalties {t.royalties}, fees {t.fees} (base units)")
    typer.echo(f"wrote {', '.join(written)} to {out}")
    if report.reconciled:
        typer.echo(f"reconciliation: ok ({report.compared} events match the chain)")
        return
    typer.echo(f"reconciliation FAILED: {len(report.mismatches)} mismatch(es)")
    for m in report.mismatches:
        typer.echo(f"  {m.kind} {m.where}: {m.detail}")
    raise typer.Exit(EXIT_MISMATCH)
