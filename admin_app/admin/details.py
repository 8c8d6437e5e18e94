"""What a row's details page adds to SQLAdmin's, and the related-row search of a view.

`DetailsPage` (a mixin of every declared table's view): the link to the row's history in the
audit log, and the rows of other tables that point at it counted by their first choice
filter (a project's tasks by status), through the list's facet counts and their time budget.
`lookup_page`: the search boxes of filters, forms and bulk prompts ask it for related rows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import anyio
from sqlalchemy import select
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from admin_app.admin.display import count_text
from admin_app.i18n import gettext, lowered
from admin_app.resources.spec import Choice, Lookup, Resource
from admin_app.services.facets import choice_key, facets_of
from admin_app.services.filtering import filters_of
from admin_app.services.search import contains_text

LOOKUP_LIMIT = 20


class DetailsPage:
    """The details page's extras; mixed into ResourceView (which has `registry`, `model`...)."""

    registry: Any
    model: Any
    identity: str
    session_maker: Any

    def history_url(self, request: Request, model: Any) -> str | None:
        """The audit log filtered to this row, for those who may read it."""
        if not self._authorization_backend().has_permission(request, "audit-entry", "list"):
            return None
        query = urlencode({"entity": self.identity, "entity_id": model.id, "entity_id_op": "equals"})
        return f"{request.url_for('admin:list', identity='audit-entry')}?{query}"

    async def related_counts(self, request: Request, model: Any) -> list[dict[str, Any]]:
        """Rows of other tables pointing here, by their first choice filter, each count a link.

        The list's facet counts (services/facets.py), in the same time budget: a project's
        tasks by status, a user's assigned tasks by status."""
        groups = []
        for other, relation in self.registry.referencing(self.model):
            searchable = any(isinstance(f, Lookup) and f.relation == relation.name for f in other.filters)
            choice = next((f.field for f in other.filters if isinstance(f, Choice)), None)
            if not searchable or choice is None or not self._can(request, other):
                continue
            groups.append((other, relation, choice))
        budget = request.app.state.settings.facet_time_budget_ms

        def count() -> list[dict[str, Any]]:
            out = []
            with self.session_maker() as db:
                for other, relation, choice in groups:
                    spec = filters_of(other).model.model_validate({relation.key: model.id})
                    counts = facets_of(other).counts(db, spec, budget_ms=budget, names=[choice])[choice] or {}
                    base = f"{request.url_for('admin:list', identity=other.name)}?{relation.param}={model.id}"
                    out.append({"title": gettext("{rows} by {field} ({relation})").format(
                        rows=gettext(other.plural), field=lowered(gettext(other.label_of(choice))),
                        relation=lowered(gettext(relation.label))),
                                "counts": [(label, count_text(counts.get(choice_key(value))),
                                            f"{base}&{choice}={choice_key(value)}")
                                           for value, label in (other.field(choice).choices or {}).items()],
                                "all": base})
            return out

        return await anyio.to_thread.run_sync(count)

    def _can(self, request: Request, other: Resource) -> bool:
        return self._authorization_backend().has_permission(request, other.permission, "list")


async def lookup_page(view: Any, request: Request) -> Response:
    """Related rows matching `term`, for the search boxes of filters, forms and prompts."""
    if not view.has_permission(request, "list"):
        raise HTTPException(status.HTTP_403_FORBIDDEN)
    try:
        relation = view.resource.relation(request.path_params["relation"])
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND) from None
    term = request.query_params.get("term", "").strip()[:100]
    target, shown = relation.target, getattr(relation.target, relation.shown)
    searched = [getattr(target, c) for c in relation.search or (relation.shown,)]
    active = getattr(target, "is_active", None)

    def work() -> list[dict[str, str]]:
        columns = [target.id, shown, *([active] if active is not None else [])]
        query = select(*columns).where(contains_text(term, *searched)).order_by(shown).limit(LOOKUP_LIMIT)
        with view.session_maker() as db:
            rows = db.execute(query).all()
        return [{"id": str(r[0]), "text": str(r[1]) + ("" if len(r) < 3 or r[2] else " (inactive)")} for r in rows]

    return JSONResponse({"results": await anyio.to_thread.run_sync(work)})
