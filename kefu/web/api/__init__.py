"""The REST API under /api: JSON, session-cookie or HTTP Basic auth, personal data masked unless ?reveal=1."""

from fastapi import APIRouter

router = APIRouter(prefix="/api")
