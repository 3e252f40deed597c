"""Uploaded 千牛 export files: saved under their own names in a temporary folder and handed to the importer."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import UploadFile

from kefu.services.import_orders import FileImportResult, import_taobao_files
from kefu.store.database import Store

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


def run_uploads(store: Store, files: list[UploadFile], shop_name: str | None, created_by: str) -> list[FileImportResult]:
    """Save the uploads to a temporary folder and run the 千牛 importer on them (the folder is removed after)."""
    with tempfile.TemporaryDirectory(prefix="kefu-upload-") as tmp:
        paths, names = save_uploads(files, Path(tmp))
        return import_taobao_files(store, paths, shop_name, display_names=names, created_by=created_by)
