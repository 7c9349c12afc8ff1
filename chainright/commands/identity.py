"""``chainright login`` and ``chainright logout``: the wallet's API session, kept for the kyc commands."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.errors import ChainError
from chainright.console import (
    ApiOpt,
    ChainOpt,
    WalletOpt,
    api_errors,
    chain_settings,
    load_wallet,
    say,
    session_client,
)

app = typer.Typer()  # root-level commands: registered without a group name in chainright/cli.py


@app.command("login")
def login_cmd(
    did: Annotated[bool, typer.Option(
        "--did", help="Log in with a DID presentation (did:pkh of the wallet, EIP-712 proof) instead of "
        "Sign-In with Ethereum.")] = False,
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
) -> None:
    """Log in to the API with the wallet (SIWE, or --did) and keep the session for the kyc commands."""
    from datetime import datetime

    from api.client import ChainrightClient
    from chain.formatting import format_time
    from chainright.session import StoredSession, save_session, session_path

    spec = chain_settings().spec(chain)  # type: ignore[arg-type]
    wallet = load_wallet(wallet_name)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        with api_errors():
            session = client.did_login() if did else client.login()
            me = client.me()
    finally:
        client.close()
    path = session_path(chain_settings().data_dir, wallet_name)
    save_session(path, StoredSession(api=api, token=session["token"], did=session["did"],
                                     address=session.get("address"), expires_at=session["expires_at"],
                                     method="did" if did else "siwe"))
    typer.echo(session["did"])
    roles = ", ".join(me.get("roles", [])) or "no roles"
    say(f"logged in to {api} ({'DID presentation' if did else 'Sign-In with Ethereum'}; {roles}); "
        f"session until {format_time(datetime.fromisoformat(session['expires_at']))}, kept in {path} (0600)")


@app.command("logout")
def logout_cmd(api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """End the stored session on the API and delete it here."""
    from api.client import ClientError
    from chainright.session import SessionFileError, session_path

    path = session_path(chain_settings().data_dir, wallet_name)
    try:
        client = session_client(api, wallet_name)
    except SessionFileError as exc:
        path.unlink(missing_ok=True)
        say(f"nothing to end on the API ({exc}); no session is stored now")
        return
    try:
        client.logout()
    except ClientError as exc:
        if getattr(exc, "extra", {}).get("status_code") != 401:
            raise ChainError(f"{exc}; the session is still stored ({path})") from None
    finally:
        client.close()
    path.unlink(missing_ok=True)
    say("logged out; the session token no longer works")
