"""The market's and the provenance routers are tried first (api/app.py), which is only harmless while
no other router serves a path under /market or /provenance, and they serve nothing else."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from api import create_app

pytestmark = pytest.mark.unit

FIRST = {"market": "api.routers.market", "provenance": "api.routers.provenance"}


def test_the_routers_tried_first_own_their_first_path_segment_alone(api_settings, database):
    app = create_app(api_settings, db=database)
    wrong = []
    for context in iter_route_contexts(app.routes):
        first = (context.path or "").lstrip("/").split("/", 1)[0]
        module = getattr(context.endpoint, "__module__", "")
        if first.startswith("{"):
            wrong.append(f"{context.path}: a parameter first could shadow /market or /provenance")
        elif (FIRST.get(first) or module) != module or (module in FIRST.values() and first not in FIRST):
            wrong.append(f"{context.path} ({module})")
    assert wrong == []
