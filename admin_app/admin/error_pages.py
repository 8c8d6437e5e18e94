"""Error pages inside the admin's layout: the status, why in one sentence, and a way back.

SQLAdmin's own page is a bare "403 Forbidden" outside the layout. A refusal here names the
role and what it may not open ("Your role, editor, does not give access to users."), a
missing row names the table and the id, and the link goes back to the list the page belongs
to when the role may see it, else home.
"""

from __future__ import annotations

from typing import Any

from sqladmin import Admin
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from admin_app.i18n import N_, lowered
from admin_app.i18n import gettext as _

ERROR = N_("Error")
TITLES = {400: N_("Bad request"), 403: N_("Not allowed"), 404: N_("Not found"), 405: N_("Not allowed"), 409: N_("Conflict")}
DEFAULT_DETAILS = {"Forbidden", "Not Found", "Bad Request", "Method Not Allowed", "Object not found"}


def _view_of(admin: Admin, identity: str | None) -> Any:
    return next((v for v in admin.views if identity and getattr(v, "identity", None) == identity), None)


def _reason(request: Request, exc: HTTPException, view: Any) -> str:
    detail = str(exc.detail or "")
    if detail and detail not in DEFAULT_DETAILS:
        return detail if detail.endswith(".") else detail + "."
    if exc.status_code == 403:
        principal = request.app.state.authenticator.principal(request)
        role = principal.role.value if principal else "anonymous"
        what = lowered(view.name_plural) if view is not None else _("this page")
        return _("Your role, {role}, does not give access to {what}.").format(role=role, what=what)
    if exc.status_code == 404:
        pk = request.path_params.get("pk")
        if view is not None and pk:
            return _("There is no {row} with id {id}: it may have been deleted.").format(row=lowered(view.name), id=pk)
        return _("There is no page at this address.")
    return detail or _("The request could not be answered.")


def _back(request: Request, view: Any) -> tuple[str, str]:
    """Back to the page's own list when the role may see it, else to the home page."""
    if view is not None and hasattr(view, "has_permission") and view.has_permission(request, "list"):
        return _("Back to {rows}").format(rows=lowered(view.name_plural)), str(request.url_for("admin:list", identity=view.identity))
    return _("Back to the home page"), str(request.url_for("admin:index"))


def error_handler(admin: Admin) -> Any:
    async def admin_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        # A path no admin route matched never passed the login check, which loads the role's
        # grants: load them here, or the menu of the page would be empty but for the views
        # that check by themselves.
        await admin.authorization_backend.load(request)
        view = _view_of(admin, request.path_params.get("identity"))
        back_label, back_url = _back(request, view)
        context = {
            "status_code": exc.status_code, "message": _(TITLES.get(exc.status_code, ERROR)),
            "reason": _reason(request, exc, view), "back_label": back_label, "back_url": back_url,
        }
        response = await admin.templates.TemplateResponse(
            request, "sqladmin/error.html", context, status_code=exc.status_code,
        )
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    return admin_http_error
