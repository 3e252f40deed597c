"""API docs page: the OpenAPI schema rendered on the server (no Swagger UI from a CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kefu.web.auth import SignedInUser, current_user
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

METHOD_ORDER = {"get": 0, "post": 1, "patch": 2, "put": 3, "delete": 4}


def operations(schema: dict) -> list[dict]:
    """Every operation of the schema as a flat list (path, method, summary, parameters, body fields)."""
    found = []
    components = schema.get("components", {}).get("schemas", {})
    for path, methods in sorted(schema.get("paths", {}).items()):
        for method, op in sorted(methods.items(), key=lambda item: METHOD_ORDER.get(item[0], 9)):
            body = op.get("requestBody", {}).get("content", {})
            body_type, body_fields = None, []
            for content_type, content in body.items():
                body_type = content_type
                ref = content.get("schema", {}).get("$ref", "")
                target = components.get(ref.rsplit("/", 1)[-1], content.get("schema", {}))
                required = set(target.get("required", []))
                body_fields = [
                    {"name": name, "required": name in required, "description": prop.get("description", "")}
                    for name, prop in target.get("properties", {}).items()
                ]
            found.append({
                "path": path,
                "method": method.upper(),
                "summary": op.get("summary", ""),
                "tags": op.get("tags", []),
                "parameters": [
                    {"name": p["name"], "in": p["in"], "required": p.get("required", False),
                     "description": p.get("description") or p.get("schema", {}).get("description", "")}
                    for p in op.get("parameters", [])
                ],
                "body_type": body_type,
                "body_fields": body_fields,
            })
    return found


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request, user: SignedInUser = Depends(current_user)) -> HTMLResponse:
    schema = request.app.openapi()
    return render(request, "docs.html", {"ops": operations(schema), "info": schema.get("info", {}), "shop_choice": None,
                                         "base_url": str(request.base_url).rstrip("/")})
