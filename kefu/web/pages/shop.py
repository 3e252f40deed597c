"""The shop switcher: remember which shop the workbench shows."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from kefu.web.auth import SignedInUser, current_user, safe_next
from kefu.web.shop_choice import choose_shop, remember_shop

router = APIRouter(include_in_schema=False)


@router.post("/shop")
def switch_shop(
    request: Request, shop_id: str = Form(...), next: str = Form("/"), user: SignedInUser = Depends(current_user)
) -> RedirectResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop_id)
    if choice.current is not None:
        remember_shop(request, choice.current.id)
    target = safe_next(next)
    # Pages of one shop's records (a customer, an order) make no sense after a switch: go to the list instead.
    for prefix in ("/customers/", "/orders/", "/imports/"):
        if target.startswith(prefix):
            target = prefix.rstrip("/")
    return RedirectResponse(target, status_code=303)
