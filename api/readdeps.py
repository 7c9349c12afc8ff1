"""The application's services for the hot read routes without a thread hop.

FastAPI runs a plain ``def`` dependency in the thread pool: ``GatewayDep``, ``DatabaseDep`` and
``ContentStoreDep`` (``api.deps``) each cost a hop there and back per request, and a ``DbSession``
two (enter and exit). These answer the same objects from coroutines, on the event loop; the read
routes (the order book, a token's story) take them instead."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.db import Database
from api.gateway import ChainGateway
from api.ipfs import ContentStore


async def read_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def read_gateway(request: Request) -> ChainGateway:
    gateway: ChainGateway = request.app.state.gateway
    return gateway


async def read_content_store(request: Request) -> ContentStore:
    store: ContentStore = request.app.state.content_store
    return store


ReadDatabase = Annotated[Database, Depends(read_database)]
ReadGateway = Annotated[ChainGateway, Depends(read_gateway)]
ReadContentStore = Annotated[ContentStore, Depends(read_content_store)]
