"""Saved views of any declared list: a name for its search, filters, sort, page size and columns.

A view's state is the admin list's own query string, checked on every save by the list's
filter and sort parsing (services.filtering, services.listing) and stored normalised, so a
view that would not open cannot be stored. Personal views are their owner's alone (to anyone
else they do not exist: 404); shared ones are seen by everyone who may read that list, and
made and managed by a role granted `saved-view: share` (auth/roles.py). Writes are ORM
changes, so the audit's flush hook records each under the entity `saved_view`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app.errors import Conflict, Forbidden, InvalidInput, NotFound
from admin_app.i18n import N_, lazy_noun
from admin_app.resources import Registry
from admin_app.resources.spec import Resource
from admin_app.services import columns as column_choice
from admin_app.services.budget import Budget, bounded
from admin_app.services.filtering import FilterBase, filters_of
from admin_app.services.listing import ApproximateCount, listing_of
from auth.principal import Principal
from models import SavedView
from models.common import reject_control_characters, utcnow
from models.saved_view import NAME_MAX, QUERY_MAX

ENTITY = "saved_view"  # what the audit trail calls them
PERMISSION = "saved-view"
PAGE_SIZES = (25, 50, 100, 500)  # the admin list's choices
SORT_PARAMS = ("sortBy", "sort")
# The sidebar's counts: each gets at most this long (PostgreSQL), all of them together at most
# the budget; a view past it shows no count rather than slowing every page.
COUNT_TIMEOUT_MS = 150  # each; all of a page's together: VIEW_COUNT_BUDGET_MS
MAX_LISTED = 15  # views shown per list in the sidebar


@dataclass(frozen=True)
class ViewState:
    """What a stored query string opens: the filter, the sort (API spelling) and page size."""

    spec: FilterBase
    sort: str
    page_size: int | None


def can_share(principal: Principal) -> bool:
    return principal.can(PERMISSION, "share")


def may_keep(principal: Principal, resource: Resource) -> bool:
    """Views of a list are for those who may read it (and keep views at all)."""
    return principal.can(resource.permission, "list") and (
        principal.can(PERMISSION, "own") or can_share(principal)
    )


# --- the list state ---------------------------------------------------------------------------

def normalised_query(resource: Resource, params: Mapping[str, str]) -> str:
    """The list state of an admin URL's parameters, validated and in one canonical spelling.

    Unknown parameters (the page number, a view id) are dropped; a filter, sort or page size the
    list would refuse is refused here with the list's own message."""
    filters, listing = filters_of(resource), listing_of(resource)
    spec = filters.from_admin(params)
    out = filters.admin_query(spec)
    if params.get("sortBy"):
        listing.admin_ordering(params)  # InvalidInput for an unknown column or direction
        out["sortBy"] = params["sortBy"]
        out["sort"] = params.get("sort") or "asc"
    size = params.get("pageSize", "").strip()
    if size:
        if not size.isdigit() or int(size) not in PAGE_SIZES:
            raise InvalidInput(N_("Invalid page size: choose one of %(sizes)s."), sizes=", ".join(map(str, PAGE_SIZES)))
        out["pageSize"] = str(int(size))
    query = urlencode(out)
    if len(query) > QUERY_MAX:
        raise InvalidInput(N_("This list's search and filters are too long to save (over %(limit)s characters)."),
                           limit=f"{QUERY_MAX:,}")
    return query


def parse_query(query: str) -> dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=False))


def state_of(resource: Resource, view: SavedView) -> ViewState:
    """The filter and sort a stored view opens (checked again: a declaration may have changed)."""
    params = parse_query(view.query)
    spec = filters_of(resource).from_admin(params)
    sort_by = params.get("sortBy")
    if sort_by:
        listing_of(resource).admin_ordering(params)
        sort = f"-{sort_by}" if params.get("sort") == "desc" else sort_by
    else:
        sort = resource.default_sort
    size = params.get("pageSize")
    return ViewState(spec, sort, int(size) if size else None)


def columns_of(resource: Resource, view: SavedView) -> list[str]:
    """The view's columns still declared; empty: the user's own choice applies."""
    allowed = set(column_choice.choosable(resource))
    return [n for n in view.columns.split(",") if n in allowed]


def checked_name(name: str | None) -> str:
    if name is None:
        raise InvalidInput(N_("Give the view a name."))
    try:
        reject_control_characters(name)
    except ValueError:
        raise InvalidInput(N_("A view's name must not contain control characters.")) from None
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(N_("Give the view a name."))
    if len(name) > NAME_MAX:
        raise InvalidInput(N_("A view's name is at most %(limit)s characters (this one has %(count)s)."),
                           limit=NAME_MAX, count=len(name))
    return name


# --- reading ----------------------------------------------------------------------------------

def visible(db: Session, principal: Principal, registry: Registry, resource: str | None = None) -> list[SavedView]:
    """My views and the shared ones, of the lists I may read: by list, then name."""
    names = [r.name for r in registry if may_keep(principal, r) and (resource is None or r.name == resource)]
    if not names:
        return []
    query = (
        select(SavedView)
        .where(SavedView.resource.in_(names), or_(SavedView.owner_id == principal.user_id, SavedView.shared))
        .order_by(SavedView.resource, SavedView.name, SavedView.id)
    )
    return list(db.execute(query).scalars())


def get(db: Session, principal: Principal, registry: Registry, view_id: int) -> SavedView:
    """A view I may see: another user's personal view, or one of a list I may not read, is not found."""
    view = db.get(SavedView, view_id)
    if view is None or not _sees(principal, registry, view):
        raise NotFound(N_("Saved view %(id)s not found."), id=view_id)
    return view


def by_name(db: Session, principal: Principal, resource: Resource, name: str) -> SavedView:
    """The view of that name of this list: mine first, else the shared one."""
    if not may_keep(principal, resource):
        raise NotFound(N_("No saved view %(name)r of %(list)s."), name=name[:NAME_MAX], list=lazy_noun(resource.plural))
    found = db.execute(
        select(SavedView).where(
            SavedView.resource == resource.name, SavedView.name == " ".join(name.split()),
            or_(SavedView.owner_id == principal.user_id, SavedView.shared),
        ).order_by((SavedView.owner_id != principal.user_id), SavedView.id).limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(N_("No saved view %(name)r of %(list)s."), name=name[:NAME_MAX], list=lazy_noun(resource.plural))
    return found


def _sees(principal: Principal, registry: Registry, view: SavedView) -> bool:
    resource = _resource(registry, view.resource)
    return (resource is not None and may_keep(principal, resource)
            and (view.shared or view.owner_id == principal.user_id))


def _resource(registry: Registry, name: str) -> Resource | None:
    return next((r for r in registry if r.name == name), None)


def may_manage(principal: Principal, view: SavedView) -> bool:
    """Personal: its owner. Shared: the roles that share."""
    return can_share(principal) if view.shared else view.owner_id == principal.user_id


# --- writing ----------------------------------------------------------------------------------

def create(
    db: Session, principal: Principal, resource: Resource, *, name: str | None, shared: bool,
    query: Mapping[str, str] | str, columns: Sequence[str] = (),
) -> SavedView:
    if not may_keep(principal, resource):
        raise _forbidden(principal, N_("The %(role)s role may not list %(list)s."), list=lazy_noun(resource.plural))
    if shared and not can_share(principal):
        raise _forbidden(principal, N_("The %(role)s role may not share views."))
    view = SavedView(
        resource=resource.name, name=checked_name(name), owner_id=principal.user_id, shared=shared,
        query=_query(resource, query), columns=_columns(resource, columns),
    )
    _check_unique(db, view)
    db.add(view)
    _flush(db, view)
    return view


def change(
    db: Session, principal: Principal, view: SavedView, resource: Resource, *, name: str | None = None,
    shared: bool | None = None, query: Mapping[str, str] | str | None = None,
    columns: Sequence[str] | None = None,
) -> SavedView:
    """Rename, share or unshare, or update to a new state; all checked before anything changes."""
    if not may_manage(principal, view) or (shared is not None and shared != view.shared and not can_share(principal)):
        raise _forbidden(principal, N_("The %(role)s role may not manage shared views.") if view.shared or shared
                         else N_("The %(role)s role may not change this view."))
    new_name = checked_name(name) if name is not None else view.name
    new_query = _query(resource, query) if query is not None else view.query
    new_columns = _columns(resource, columns) if columns is not None else view.columns
    new_shared = view.shared if shared is None else shared
    probe = SavedView(id=view.id, resource=view.resource, name=new_name, owner_id=view.owner_id, shared=new_shared)
    _check_unique(db, probe)
    view.name, view.query, view.columns, view.shared = new_name, new_query, new_columns, new_shared
    view.updated_at = utcnow()
    _flush(db, view)
    return view


def delete(db: Session, principal: Principal, view: SavedView) -> None:
    if not may_manage(principal, view):
        raise _forbidden(principal, N_("The %(role)s role may not delete shared views."))
    db.delete(view)
    db.flush()


def _forbidden(principal: Principal, message: str, **params: Any) -> Forbidden:
    return Forbidden(message, role=principal.role.value, **params)


def _query(resource: Resource, query: Mapping[str, str] | str) -> str:
    return normalised_query(resource, parse_query(query) if isinstance(query, str) else query)


def _columns(resource: Resource, names: Sequence[str]) -> str:
    return ",".join(column_choice.checked(resource, list(names))) if names else ""


def _check_unique(db: Session, view: SavedView) -> None:
    """The two unique rules, said in words before the database would refuse them."""
    mine = db.execute(select(SavedView.id).where(
        SavedView.owner_id == view.owner_id, SavedView.resource == view.resource,
        SavedView.name == view.name, SavedView.id != (view.id or 0),
    ).limit(1)).first()
    if mine is not None:
        raise Conflict(N_("You already have a view named %(name)r of this list."), name=view.name)
    if view.shared:
        other = db.execute(select(SavedView.id).where(
            SavedView.shared, SavedView.resource == view.resource, SavedView.name == view.name,
            SavedView.id != (view.id or 0),
        ).limit(1)).first()
        if other is not None:
            raise Conflict(N_("A shared view named %(name)r of this list exists already."), name=view.name)


def _flush(db: Session, view: SavedView) -> None:
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError as exc:  # a concurrent save of the same name won the race
        raise Conflict(N_("A view named %(name)r of this list exists already."), name=view.name) from exc


# --- the sidebar's counts ---------------------------------------------------------------------

def counts(db: Session, registry: Registry, views: Iterable[SavedView], *, budget_ms: int) -> dict[int, int | None]:
    """Each view's row count as its list counts it (estimated where the list's is), bounded in
    time (services/budget.py, as the facet counts are): each count may take COUNT_TIMEOUT_MS
    and all together `budget_ms` (VIEW_COUNT_BUDGET_MS); a view over it (or whose state no
    longer parses) gets None: no count."""
    out: dict[int, int | None] = {}
    budget = Budget(budget_ms)
    for view in views:
        resource = _resource(registry, view.resource)
        try:
            spec = state_of(resource, view).spec if resource is not None else None
        except InvalidInput:
            spec = None
        if spec is None:
            out[view.id] = None
            continue
        count = partial(listing_of(resource).bounded_count, db, spec)
        out[view.id] = bounded(db, budget.at_most(COUNT_TIMEOUT_MS), count)
    return out


def count_label(count: int | None) -> str:
    if count is None:
        return ""
    return f"about {int(count):,}" if isinstance(count, ApproximateCount) else f"{count:,}"
