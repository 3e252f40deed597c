"""The REST API under /api: JSON, session-cookie or HTTP Basic auth, personal data masked unless ?reveal=1."""

from fastapi import APIRouter

from kefu.web.api import customers, imports, orders, stats

router = APIRouter(prefix="/api")
router.include_router(stats.router)
router.include_router(customers.router)
router.include_router(orders.router)
router.include_router(imports.router)
