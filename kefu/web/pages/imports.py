"""Imports page: upload 千牛 exports in the browser, see each run's counts and every rejected row."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from kefu.store.tables import ImportRejection, ImportRun, Shop
from kefu.web.auth import SignedInUser, current_user
from kefu.web.shop_choice import choose_shop
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

RUNS_SHOWN = 50
REJECTIONS_SHOWN = 2000
ALLOWED_SUFFIXES = (".csv", ".xlsx", ".xls", ".txt")


def safe_file_name(name: str | None, index: int) -> str:
    """The uploaded file's own name without any directory part (the importer reads the kind from it)."""
    base = Path((name or "").replace("\\", "/")).name.strip() or f"upload-{index}.csv"
    return re.sub(r"[\x00-\x1f/]", "_", base)[:200]


def save_uploads(files: list[UploadFile], folder: Path) -> tuple[list[Path], list[str]]:
    """Write uploads into `folder` under their own names; returns the paths and the names the user gave them."""
    paths, names = [], []
    for index, upload in enumerate(files, start=1):
        name = safe_file_name(upload.filename, index)
        path = folder / f"{index:02d}" / name  # one sub-folder per file: two uploads may share a name
        path.parent.mkdir()
        with path.open("wb") as out:
            while chunk := upload.file.read(1 << 20):
                out.write(chunk)
        paths.append(path)
        names.append(name)
    return paths, names


def run_uploads(store, files: list[UploadFile], shop_name: str | None, created_by: str) -> list:
    """Save the uploads to a temporary folder and run the 千牛 importer on them (the folder is removed after)."""
    from kefu.services.import_orders import import_taobao_files

    with tempfile.TemporaryDirectory(prefix="kefu-upload-") as tmp:
        paths, names = save_uploads(files, Path(tmp))
        return import_taobao_files(store, paths, shop_name, display_names=names, created_by=created_by)


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
