"""``chainright api run``: serve the HTTP API with uvicorn until Ctrl-C, in one process or several."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from chain.errors import ChainError
from chainright.console import api_settings, say

app = typer.Typer(no_args_is_help=True, help="Run the HTTP API.")


@app.command("run")
def api_run(
    port: Annotated[int | None, typer.Option(help="Port (default CHAINRIGHT_API_PORT, 8000).")] = None,
    workers: Annotated[int, typer.Option(
        min=1, max=64, envvar="CHAINRIGHT_API_WORKERS",
        help="API processes sharing the port and the database (default 1). More than one pays only on "
             "a machine with cores to spare; a logout or a KYC revocation reaches the other processes "
             "within the caller cache's 2 s (CHAINRIGHT_API_CALLER_CACHE_TTL_S).")] = 1,
) -> None:
    """Serve the API on 127.0.0.1 (docs at /docs) until Ctrl-C."""
    import uvicorn

    from api import create_app
    from api.errors import ApiError
    from devnet.anvil import port_is_free

    settings = api_settings()
    if port is not None:
        settings = settings.model_copy(update={"port": port})
    if not port_is_free(settings.host, settings.port):
        raise ChainError(f"port {settings.port} on {settings.host} is already in use; stop what "
                         "listens there or choose another with --port / CHAINRIGHT_API_PORT")
    try:
        application = create_app(settings)
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    from api.requestid import install_request_id_logging

    install_request_id_logging(configure_root=True)
    processes = f", {workers} processes" if workers > 1 else ""
    say(f"API on http://{settings.host}:{settings.port} (docs at /docs), database "
        f"{settings.effective_database_url.split('@')[-1]}{processes}")
    from uvicorn.config import LOGGING_CONFIG

    from chainright.logs import json_logs

    # JSON logs: uvicorn keeps no handlers of its own, so its lines go through ours (log_config=None).
    log_config = None if json_logs() else LOGGING_CONFIG
    if workers == 1:
        uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning",
                    log_config=log_config)
        return
    # Several processes: uvicorn starts each from an import string, and each builds its own app from
    # the environment, as this one did (the app above checked the settings and migrated the database
    # once, so the workers do not race to migrate).
    os.environ["CHAINRIGHT_API_PORT"] = str(settings.port)
    uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, host=settings.host,
                port=settings.port, log_level="warning", log_config=log_config)


def worker_app() -> Any:
    """One API process of ``api run --workers N``: its app, from the same environment as the parent's."""
    from api import create_app
    from api.requestid import install_request_id_logging

    install_request_id_logging(configure_root=True)
    return create_app()
