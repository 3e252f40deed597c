"""REST: upload 千牛 exports to import them, and read an import run with its rejected rows."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from sqlalchemy import select

from kefu.store.tables import ImportRejection, ImportRun
from kefu.web.api.serialize import import_result_json, run_json
from kefu.web.auth import SignedInUser, current_user
from kefu.web.uploads import ALLOWED_SUFFIXES, run_uploads

router = APIRouter(tags=["imports"])


@router.post("/imports", summary="导入千牛导出文件 / Import 千牛 export files (multipart)")
def create_import(
    request: Request,
    files: list[UploadFile] = File(..., description="one or more ExportOrderList / ExportOrderDetailList files"),
    shop: str | None = Form(None, description="shop name to import into (created when new)"),
    user: SignedInUser = Depends(current_user),
) -> dict:
    files = [f for f in files if f.filename]
    if not files:
        raise HTTPException(status_code=400, detail="no file uploaded (field name: files)")
    wrong = [f.filename for f in files if not f.filename.lower().endswith(ALLOWED_SUFFIXES)]
    if wrong:
        raise HTTPException(status_code=400, detail=f"not a CSV/xlsx export: {', '.join(wrong)}")
    results = run_uploads(request.app.state.store, files, (shop or "").strip() or None, user.username)
    return {"runs": [import_result_json(r) for r in results]}


@router.get("/imports", summary="导入记录 / Recent import runs")
def list_imports(request: Request, limit: int = 50, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        runs = session.scalars(select(ImportRun).order_by(ImportRun.started_at.desc()).limit(max(1, min(limit, 500))))
        return {"runs": [run_json(run) for run in runs]}


@router.get("/imports/{run_id}", summary="导入详情 / One import run with its rejected rows")
def get_import(run_id: str, request: Request, user: SignedInUser = Depends(current_user)) -> dict:
    with request.app.state.store.session() as session:
        run = session.get(ImportRun, run_id)
        if run is None:
            raise HTTPException(status_code=404, detail=f"no import run {run_id}")
        rejections = list(
            session.scalars(select(ImportRejection).where(ImportRejection.run_id == run_id).order_by(ImportRejection.line_no))
        )
        return run_json(run, rejections)
