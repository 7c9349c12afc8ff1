"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import DbSession

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=Health, summary="Is the API up and its database reachable?")
def health(db: DbSession) -> Health:
    db.execute(text("SELECT 1"))
    return Health(status="ok", database="ok")
