"""What the pages beyond SQLAdmin's (list edit, import) need of a table's admin view."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from sqladmin.pagination import Pagination
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin_app.resources.spec import Resource
from admin_app.services.listing import Listing
from admin_app.services.unit import WriteContext


class ResourcePages(Protocol):
    """A ResourceView, as list_edit and importer use it (they import no view: no cycle)."""

    resource: Resource
    identity: str
    model: Any
    session_maker: Any
    templates: Any
    page_size_options: list[int]

    @property
    def listing(self) -> Listing: ...

    def writing(self, request: Request) -> AbstractContextManager[WriteContext]: ...

    def has_permission(self, request: Request, action: str) -> bool: ...

    async def list(self, request: Request) -> Pagination: ...

    def list_url(self, request: Request) -> str: ...

    def noun(self, count: int) -> str: ...


def guard(view: ResourcePages, request: Request, declared: object, action: str) -> None:
    """404 for a page the table does not declare, 403 for a role that may not use it."""
    if not declared:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    if not view.has_permission(request, action):
        raise HTTPException(status.HTTP_403_FORBIDDEN)
