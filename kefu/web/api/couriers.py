"""REST: the courier scoreboard and a recommendation for a destination province and priority."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from kefu.domain.rules.courier_score import PRIORITIES
from kefu.services.courier_scoreboard import (
    recommendation_json,
    score_json,
    scoreboard_view,
)
from kefu.web.auth import SignedInUser, current_user
from kefu.web.i18n import language_of, translator
from kefu.web.shop_choice import choose_shop

router = APIRouter(tags=["couriers"])


@router.get("/couriers", summary="快递评分与推荐 / Courier scoreboard and recommendation")
def get_couriers(
    request: Request,
    province: str | None = Query(None, description="destination province, 新疆 or 新疆维吾尔自治区; empty: all"),
    priority: str = Query("cheapest", description="cheapest, fastest or most_reliable"),
    shop: str | None = Query(None, description="shop id or name; default: the workbench's current shop"),
    user: SignedInUser = Depends(current_user),
) -> dict:
    if priority not in PRIORITIES:
        raise HTTPException(status_code=422, detail=f"priority: one of {', '.join(PRIORITIES)}")
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session, shop)
        view = scoreboard_view(session, choice.shop_id, province=(province or "").strip() or None, priority=priority,
                               now=datetime.now(UTC))
    board = view.board
    return {
        "shop_id": choice.shop_id,
        "min_sample": board.policy.min_sample,
        "carriers": [score_json(board.totals[c]) for c in board.carriers],
        "rows": [score_json(s) for s in board.rows],
        "recommendation": recommendation_json(view.recommendation, translator(language_of(request))),
    }
