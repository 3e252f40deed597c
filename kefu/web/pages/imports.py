"""Imports page: upload 千牛 exports in the browser, see each run's counts and every rejected row."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from kefu.store.tables import ImportRejection, ImportRun, Shop
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render
from kefu.web.uploads import ALLOWED_SUFFIXES, run_uploads

router = APIRouter(include_in_schema=False)

RUNS_SHOWN = 50
REJECTIONS_SHOWN = 2000


def recent_runs(session, limit: int = RUNS_SHOWN) -> list[tuple[ImportRun, str | None]]:
    rows = session.execute(
        select(ImportRun, Shop.name).outerjoin(Shop, Shop.id == ImportRun.shop_id).order_by(ImportRun.started_at.desc()).limit(limit)
    )
    return [(run, shop_name) for run, shop_name in rows]


def importable_shops(shops: list[Shop]) -> list[Shop]:
    return [shop for shop in shops if shop.platform in ("taobao", "tmall")]


def _page(request: Request, user: SignedInUser, *, results=None, error=None, status_code: int = 200) -> HTMLResponse:
    with request.app.state.store.session() as session:
        choice = choose_shop(request, session)
        runs = recent_runs(session)
    return render(
        request,
        "imports/list.html",
        {
            "shop_choice": choice,
            "runs": runs,
            "results": results,
            "error": error,
            "target_shops": importable_shops(choice.shops),
        },
        status_code=status_code,
    )


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    return _page(request, user)


@router.post("/imports", response_class=HTMLResponse)
def upload_exports(
    request: Request,
    files: list[UploadFile] = File(default=[]),
    shop_name: str = Form(""),
    new_shop_name: str = Form(""),
    user: SignedInUser = Depends(current_user),
) -> HTMLResponse:
    """Run the importer on the uploaded files and show each file's run, with its rejected rows."""
    files = [f for f in files if f.filename]
    if not files:
        return _page(request, user, error="imports.no_files", status_code=400)
    wrong = [f.filename for f in files if not f.filename.lower().endswith(ALLOWED_SUFFIXES)]
    if wrong:
        return _page(request, user, error="imports.wrong_type", status_code=400)
    target = new_shop_name.strip() or shop_name.strip() or None
    results = run_uploads(request.app.state.store, files, target, user.username)
    return _page(request, user, results=results)


@router.get("/imports/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    with request.app.state.store.session() as session:
        run = session.get(ImportRun, run_id)
        if run is None:
            raise HTTPException(status_code=404, detail="no such import run")
        shop = session.get(Shop, run.shop_id) if run.shop_id else None
        rejections = list(
            session.scalars(
                select(ImportRejection)
                .where(ImportRejection.run_id == run_id)
                .order_by(ImportRejection.line_no, ImportRejection.id)
                .limit(REJECTIONS_SHOWN)
            )
        )
        choice = choose_shop(request, session)
    return render(
        request,
        "imports/run.html",
        {"run": run, "shop": shop, "rejections": rejections, "shop_choice": choice, "shown_limit": REJECTIONS_SHOWN},
    )
