"""The home page: what needs attention, each number linking to the list it counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from admin_app.i18n import N_, gettext
from admin_app.resources import Registry
from admin_app.resources.tasks import OPEN
from admin_app.services.filtering import filters_of
from admin_app.services.listing import listing_of
from models import Project, Task
from models.task import STATUS_LABELS

LATEST = 10
BUSIEST_PROJECTS = 5


@dataclass(frozen=True)
class Card:
    label: str
    count: int
    query: str  # the task list's query string for exactly these tasks
    note: str = ""


def overdue_params(today: date) -> dict[str, str]:
    return {"preset": "overdue"}


def due_this_week_params(today: date) -> dict[str, str]:
    """Open tasks due Monday to Sunday of this week."""
    monday = today - timedelta(days=today.weekday())
    return {
        "preset": "open",
        "due_after": (monday - timedelta(days=1)).isoformat(),
        "due_before": (monday + timedelta(days=7)).isoformat(),
        "sortBy": "due_date",
        "sort": "asc",
    }


def dashboard(session_factory: sessionmaker[Session], registry: Registry, today: date) -> dict[str, Any]:
    tasks = registry.get("task")
    filters, listing = filters_of(tasks), listing_of(tasks)

    def counted(db: Session, label: str, params: dict[str, str], note: str = "") -> Card:
        # The count and the link come from the same parameters: the list shows what was counted.
        return Card(label, listing.count(db, filters.from_admin(params)), urlencode(params), note)

    with session_factory() as db:
        by_status = dict(db.execute(select(Task.status, func.count()).group_by(Task.status)).all())
        statuses = [
            Card(label, int(by_status.get(value.value, 0)), urlencode({"status": value.value}))
            for value, label in STATUS_LABELS.items()
        ]
        attention = [
            counted(db, N_("Overdue"), overdue_params(today), N_("open, due before today")),
            counted(db, N_("Due this week"), due_this_week_params(today), N_("open, due Monday to Sunday")),
        ]
        latest_query = listing.ordered(filters.model(), listing.ordering("-updated_at"), ["assignee"])
        latest = list(db.execute(latest_query.limit(LATEST)).scalars().unique())
        projects = db.execute(
            select(Project.id, Project.code, Project.name, func.count(Task.id).label("open"))
            .join(Task, Task.project_id == Project.id)
            .where(Task.status.in_(OPEN), Project.archived.is_(False))
            .group_by(Project.id, Project.code, Project.name)
            .order_by(func.count(Task.id).desc(), Project.code).limit(BUSIEST_PROJECTS)
        ).all()
    return {
        "title": gettext("Dashboard"),
        "statuses": statuses,
        "attention": attention,
        "latest": latest,
        "latest_query": urlencode({"sortBy": "updated_at", "sort": "desc"}),
        "status_labels": {k.value: v for k, v in STATUS_LABELS.items()},
        "projects": [
            {"code": p.code, "name": p.name, "open": p.open, "query": urlencode({"project": p.id, "preset": "open"})}
            for p in projects
        ],
        "today": today,
    }
