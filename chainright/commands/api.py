"""``chainright api run``: serve the HTTP API with uvicorn until Ctrl-C."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.errors import ChainError
from chainright.console import api_settings, say

app = typer.Typer(no_args_is_help=True, help="Run the HTTP API.")


@app.command("run")
def api_run(
    port: Annotated[int | None, typer.Option(help="Port (default CHAINRIGHT_API_PORT, 8000).")] = None,
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
    say(f"API on http://{settings.host}:{settings.port} (docs at /docs), database "
        f"{settings.effective_database_url.split('@')[-1]}")
    from uvicorn.config import LOGGING_CONFIG

    from chainright.logs import json_logs

    # JSON logs: uvicorn keeps no handlers of its own, so its lines go through ours (log_config=None).
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning",
                log_config=None if json_logs() else LOGGING_CONFIG)
