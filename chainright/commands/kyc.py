"""``chainright kyc apply|status|queue|show|approve|reject|revoke``: KYC as the logged-in user or officer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from chainright.console import ApiOpt, JsonOpt, WalletOpt, api_errors, dump_json, say, session_client

app = typer.Typer(no_args_is_help=True, help="Know your customer: apply and check; officers review.")


def _print_application(app_: dict[str, Any]) -> None:
    from datetime import datetime

    from chain.formatting import format_time

    def when(value: str | None) -> str:
        return format_time(datetime.fromisoformat(value)) if value else "-"

    typer.echo(f"{app_['id']}\t{app_['state']}\t{app_['country']}\tlevel {app_['level'] or '-'}\t"
               f"submitted {when(app_['submitted_at'])}\texpires {when(app_['expires_at'])}\t"
               f"{app_['subject']}")
    details = []
    if app_.get("reason"):
        details.append(f"reason: {app_['reason']}")
    if app_.get("sanctions_match"):
        details.append("sanctions list match")
    if app_.get("sync_status") not in (None, "synced", "none"):
        details.append(f"chain sync {app_['sync_status']}: {app_.get('sync_detail') or ''}".rstrip(": "))
    personal = app_.get("personal_data")
    if personal:
        details.append(f"{personal['legal_name']}, born {personal['date_of_birth']}, "
                       f"{personal['document_type']} {personal['document_number']}")
    for line in details:
        typer.echo(f"  {line}")


APPLICATION_FIELDS = ("legal_name", "date_of_birth", "country", "document_type", "document_number")


@app.command("apply")
def kyc_apply(
    legal_name: Annotated[str | None, typer.Option(help="Your full legal name.")] = None,
    date_of_birth: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2, e.g. FR.")] = None,
    document_type: Annotated[str | None, typer.Option(help="passport, id_card or driving_licence.")] = None,
    document_number: Annotated[str | None, typer.Option(help="The identity document's number.")] = None,
    from_file: Annotated[Path | None, typer.Option(
        "--from-file", help="A JSON file with these fields (keeps them out of the shell history); "
        "options given as well win.")] = None,
    document: Annotated[Path | None, typer.Option(help="A scan or photo of the document to attach.")
                        ] = None,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Apply for KYC as the logged-in user; prints the application id."""
    import json

    fields: dict[str, Any] = {}
    if from_file is not None:
        try:
            loaded = json.loads(from_file.read_text())
        except FileNotFoundError:
            raise typer.BadParameter(f"no file at {from_file}", param_hint="'--from-file'") from None
        except ValueError as exc:
            raise typer.BadParameter(f"{from_file} is not JSON ({exc})", param_hint="'--from-file'") from None
        if not isinstance(loaded, dict):
            raise typer.BadParameter("the file must hold one JSON object", param_hint="'--from-file'")
        fields.update({k: v for k, v in loaded.items() if k in APPLICATION_FIELDS})
    given = {"legal_name": legal_name, "date_of_birth": date_of_birth, "country": country,
             "document_type": document_type, "document_number": document_number}
    fields.update({k: v for k, v in given.items() if v is not None})
    missing = [f"--{k.replace('_', '-')}" for k in APPLICATION_FIELDS if not fields.get(k)]
    if missing:
        raise typer.BadParameter(f"missing {', '.join(missing)} (or put them in --from-file)",
                                 param_hint="the application")
    client = session_client(api, wallet_name)
    try:
        with api_errors():
            out = client.kyc_apply(fields)
            if document is not None:
                out = client.kyc_document(out["id"], document)
    finally:
        client.close()
    if as_json:
        dump_json(out)
        return
    typer.echo(out["id"])
    say(f"KYC application {out['id']} is {out['state']}; follow it with 'chainright kyc status'")


@app.command("status")
def kyc_status(
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Your KYC status: the latest application, whether you count as verified, and on each chain."""
    from datetime import datetime

    from chain.formatting import format_time

    client = session_client(api, wallet_name)
    try:
        with api_errors():
            out = client.kyc_status()
    finally:
        client.close()
    if as_json:
        dump_json(out)
        return
    expires = format_time(datetime.fromisoformat(out["expires_at"])) if out.get("expires_at") else "-"
    chains = ", ".join(f"chain {cid}: {'yes' if ok else 'no'}" for cid, ok in out.get("on_chain", {}).items())
    typer.echo(f"state\t{out['state'] or 'no application'}")
    typer.echo(f"verified\t{'yes' if out['verified'] else 'no'}")
    typer.echo(f"level\t{out['level'] or '-'}")
    typer.echo(f"expires\t{expires}")
    typer.echo(f"on chain\t{chains or '-'}")
    if out.get("sync_status") not in (None, "synced", "none"):
        typer.echo(f"chain sync\t{out['sync_status']} {out.get('sync_detail') or ''}".rstrip())


@app.command("queue")
def kyc_queue(
    state: Annotated[str | None, typer.Option(help="Only this state (e.g. submitted); default all.")
                     ] = "submitted",
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """KYC officers: the applications waiting for review (no personal data; see 'kyc show')."""
    client = session_client(api, wallet_name)
    try:
        with api_errors():
            rows = client.kyc_queue(state if state and state != "all" else None, limit)
    finally:
        client.close()
    if as_json:
        dump_json(rows)
        return
    for row in rows:
        _print_application(row)
    say(f"{len(rows)} application(s)" + (f" in state {state}" if state and state != "all" else ""))


@app.command("show")
def kyc_show(
    app_id: Annotated[str, typer.Argument(help="The application id.")],
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """One application with its personal data (KYC officers, or its applicant)."""
    client = session_client(api, wallet_name)
    try:
        with api_errors():
            out = client.kyc_application(app_id)
    finally:
        client.close()
    if as_json:
        dump_json(out)
        return
    _print_application(out)


def _officer_decision(app_id: str, api: str, wallet_name: str, as_json: bool, decide: Any) -> None:
    client = session_client(api, wallet_name)
    try:
        with api_errors():
            out = decide(client)
    finally:
        client.close()
    if as_json:
        dump_json(out)
        return
    _print_application(out)


@app.command("approve")
def kyc_approve(
    app_id: Annotated[str, typer.Argument(help="The application id.")],
    level: Annotated[int, typer.Option(min=1, max=3, help="KYC level 1-3.")] = 1,
    expires: Annotated[str | None, typer.Option(
        help="When the approval ends (ISO 8601 date or time); default one year.")] = None,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """KYC officers: approve; the credential is issued and every chain's identity registry written."""
    from datetime import UTC, datetime

    expires_at = None
    if expires is not None:
        try:
            moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError:
            raise typer.BadParameter(f"{expires!r} is not an ISO 8601 date or time",
                                     param_hint="'--expires'") from None
        expires_at = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    _officer_decision(app_id, api, wallet_name, as_json, lambda c: c.kyc_approve(app_id, level, expires_at))


@app.command("reject")
def kyc_reject(
    app_id: Annotated[str, typer.Argument(help="The application id.")],
    reason: Annotated[str, typer.Option(help="Why (the applicant sees it).")],
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """KYC officers: reject an application with a reason."""
    _officer_decision(app_id, api, wallet_name, as_json, lambda c: c.kyc_reject(app_id, reason))


@app.command("revoke")
def kyc_revoke(
    app_id: Annotated[str, typer.Argument(help="The application id.")],
    reason: Annotated[str, typer.Option(help="Why (the holder sees it).")],
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """KYC officers: revoke an approval; the API and every chain stop counting the holder as verified."""
    _officer_decision(app_id, api, wallet_name, as_json, lambda c: c.kyc_revoke(app_id, reason))
