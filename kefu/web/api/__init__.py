"""The REST API under /api: JSON, session-cookie or HTTP Basic auth, personal data masked unless ?reveal=1."""

from fastapi import APIRouter

from kefu.web.api import imports, orders

router = APIRouter(prefix="/api")
try:  # TEMPORARY until kefu.services.customer360 / stats land
    from kefu.web.api import customers, stats

    router.include_router(stats.router)
    router.include_router(customers.router)
except ImportError:
    pass
router.include_router(orders.router)
router.include_router(imports.router)
