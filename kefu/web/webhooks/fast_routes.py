"""Carrier pushes matched before the workbench's pages: FastAPI walks its route list in order, at a cost per route."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def match_first(app: FastAPI, routers: list[APIRouter]) -> None:
    """Move the app's routes that come from these routers to the front (their paths are unique, so only speed changes).

    Carrier pushes arrive by the thousand from machines; walking some forty included page routers before reaching
    /webhooks/… cost more CPU than landing the push itself. Routers that were not included are ignored.
    """
    wanted = {id(router) for router in routers}
    routes = app.router.routes
    first = [r for r in routes if id(getattr(r, "original_router", None)) in wanted or id(r) in wanted]
    if not first:
        return
    rest = [r for r in routes if all(r is not f for f in first)]
    routes[:] = first + rest
