"""The web app: pages for creators, collectors, auditors and operators, served by the API itself
(same origin), and the few read routes they need (``/catalog``). Registered by ``create_app``."""

from fastapi import APIRouter

from api.web import catalog, clearsign, pages

router = APIRouter()
router.include_router(catalog.router)
router.include_router(clearsign.router)
router.include_router(pages.router)

__all__ = ["router"]
