"""Methods a path does not declare: `OPTIONS` says which it does, anything else is a 405.

Starlette answers an undeclared method with 405 only when no route matches fully, and its
`Allow` names the methods of the first route that matched the path, one of several FastAPI
makes for `/api/tasks/{task_id}`. And `PUT /api/tasks/bulk` matched `PUT /api/tasks/{task_id}`
(with the id "bulk", a 422). So after the routes of each path comes one more route, for the
methods the path does not declare: `OPTIONS` answers 204 with the complete `Allow`, every
other method 405 with the same `Allow`. Placed right after its path's routes, it also comes
before a later path whose parameter would have taken the name (`bulk`).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

PREFIX = "undeclared-methods:"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY")


def _answer(allow: str) -> object:
    async def endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return JSONResponse(
            {"detail": f"Method {request.method} not allowed here; allowed: {allow}."},
            status_code=405, headers={"Allow": allow},
        )

    return endpoint


def answer_undeclared_methods(router: APIRouter) -> APIRouter:
    """Add, after the routes of each path, the route answering its other methods (again for a
    module's router that several apps include: the routes added before are replaced)."""
    routes: list[BaseRoute] = [r for r in router.routes if not getattr(r, "name", "").startswith(PREFIX)]
    declared: dict[str, set[str]] = {}
    last: dict[str, int] = {}
    for index, route in enumerate(routes):
        if isinstance(route, APIRoute):
            declared.setdefault(route.path, set()).update(route.methods)
            last[route.path] = index
    for path in sorted(last, key=last.__getitem__, reverse=True):
        methods = declared[path]
        allow = ", ".join(m for m in METHODS if m in methods or m == "OPTIONS")
        others = [m for m in METHODS if m not in methods]
        routes.insert(last[path] + 1, Route(
            path, _answer(allow), methods=others, name=f"{PREFIX}{path}", include_in_schema=False
        ))
    router.routes[:] = routes
    return router
