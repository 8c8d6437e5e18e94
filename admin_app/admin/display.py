"""How list and details pages show a value: one definition each, read from the declaration.

- a choice by its label, as a coloured badge where the field declares colours (status);
- a related row by its shown column (the assignee's email), linked to its details page for
  those who may open it;
- a timestamp in one short format per language ("2026-12-01 19:25 UTC", German
  "1.12.2026, 19:25 UTC"), the exact value on hover; counts in the language's digits.
Exports and the API keep the stored values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup, escape
from sqladmin.formatters import BASE_FORMATTERS
from sqlalchemy import DateTime
from starlette.requests import Request

from admin_app.admin.compat import row_url
from admin_app.i18n import format_date, format_number, format_timestamp, gettext
from admin_app.resources.spec import Relation, Resource
from admin_app.services.listing import ApproximateCount
from models.common import jsonable
from models.user import THEMES

# (request, permission, action) -> allowed: the role table, asked for a related row's link.
Allowed = Callable[[Request, str, str], bool]
# A declared badge colour -> Tabler's classes (light background, readable in both themes).
BADGE_CLASSES = {
    "grey": "bg-secondary-lt", "blue": "bg-blue-lt", "green": "bg-green-lt", "red": "bg-red-lt",
    "orange": "bg-orange-lt", "purple": "bg-purple-lt", "dark": "bg-dark-lt",
}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name and name != "UTC" else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def timestamp(value: datetime, zone: str = "UTC") -> Markup:
    """The one timestamp format of every page: minutes in the viewer's time zone ("2026-12-01
    19:25 UTC", "2026-12-01 20:25 CET"), the exact stored value (UTC) on hover."""
    at = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    tz = _zone(zone)
    local = at.astimezone(tz) if tz else at
    shown = f"{format_timestamp(local)} {local.strftime('%Z') if tz else 'UTC'}"
    exact = at.isoformat()  # digits, '-', ':', '.', '+', 'T': nothing to escape
    return Markup(f'<time datetime="{exact}" title="{exact.replace("T", " ")}">{escape(shown)}</time>')  # noqa: S704


def viewer_zone(request: Request) -> str:
    """The time zone the signed-in user chose in My account (UTC by default)."""
    principal = request.app.state.authenticator.principal(request)
    return getattr(principal, "time_zone", "UTC") or "UTC"


def theme_of(request: Request) -> str:
    """The theme the signed-in user chose in My account; the browser's before signing in."""
    principal = request.app.state.authenticator.principal(request)
    theme = getattr(principal, "theme", "system")
    return theme if theme in THEMES else "system"


def show_time(request: Request, value: datetime | None) -> Markup:
    """A timestamp for templates (the dashboard): in the viewer's zone; nothing for None."""
    return timestamp(value, viewer_zone(request)) if value is not None else Markup("")


def _timestamp_column(row: Any, attr: str, request: Request) -> Any:
    value = getattr(row, attr)
    if value is None:
        return ""  # never signed in, say: an empty cell, not "None"
    return timestamp(value, viewer_zone(request)) if isinstance(value, datetime) else value


def count_text(count: int | None) -> str:
    """A row count as the footer and facets read it, in the request's language: "1,204",
    "about 1,000,000" for an estimate ("etwa 1.000.000"), nothing for an unknown one."""
    if count is None:
        return ""
    if isinstance(count, ApproximateCount):
        return gettext("about %(count)s") % {"count": format_number(count)}
    return format_number(count)


def _is_datetime(column: Any) -> bool:
    return isinstance(getattr(column.type, "impl", column.type), DateTime)  # UTCDateTime is a decorator


def timestamp_formatters(*names: str) -> dict[str, Any]:
    """Column formatters showing these datetime columns in the viewer's zone (the audit log)."""
    return dict.fromkeys(names, _timestamp_column)


def type_formatters() -> dict[type, Any]:
    """SQLAdmin's formatters by value type, with ours for dates and times."""
    return {**BASE_FORMATTERS, datetime: timestamp, date: lambda value: format_date(value)}


def _related(relation: Relation, target: Resource | None, allowed: Allowed) -> Any:
    def format_related(row: Any, attr: str, request: Request) -> Any:
        related = getattr(row, attr)
        if related is None:
            return ""
        text = getattr(related, relation.shown)
        if target is None or not allowed(request, target.permission, "details"):
            return text
        url = row_url(request, "admin:details", target.name, related.id)
        return Markup(f'<a href="{escape(url)}" class="related-link">{escape(text)}</a>')  # noqa: S704

    return format_related


def _labelled(labels: dict[Any, str], badges: dict[Any, str]) -> Any:
    def format_choice(row: Any, attr: str) -> Any:
        value = jsonable(getattr(row, attr))
        label = gettext(labels[value]) if value in labels else value
        if value in badges:
            classes = BADGE_CLASSES.get(badges[value], "bg-secondary-lt")
            return Markup(  # noqa: S704 - each value escaped
                f'<span class="badge {classes} choice-badge" data-value="{escape(value)}">{escape(label)}</span>')
        return label

    return format_choice


def formatters(resource: Resource, resources: Callable[[type], Resource | None], allowed: Allowed) -> dict[str, Any]:
    """List and details show choices by label (badges where declared), related rows linked."""
    out: dict[str, Any] = {}
    datetimes = {c.key for c in resource.model.__table__.columns if _is_datetime(c)}
    for found in resource.fields:
        if found.name in datetimes:
            out[found.name] = _timestamp_column
        elif isinstance(found, Relation):
            out[found.name] = _related(found, resources(found.target), allowed)
        elif getattr(found, "choices", None):
            badges = {jsonable(k): v for k, v in (found.badges or {}).items()}
            out[found.name] = _labelled({jsonable(k): v for k, v in found.choices.items()}, badges)
    return out
