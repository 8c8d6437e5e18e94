"""The home page: what needs attention, each number linking to the list it counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, sessionmaker
from sqlmodel import Session

from admin_app.admin.filters import OPEN_STATUSES, STATUS_LABELS
from admin_app.admin.task_query import task_filter
from admin_app.services.tasks import count_tasks
from models import Task

LATEST = 10


@dataclass(frozen=True)
class Card:
    label: str
    count: int
    query: str  # the task list's query string for exactly these tasks
    note: str = ""


def overdue_params(today: date) -> dict[str, str]:
    return {"status": OPEN_STATUSES, "due_before": today.isoformat()}


def due_this_week_params(today: date) -> dict[str, str]:
    """Open tasks due Monday to Sunday of this week."""
    monday = today - timedelta(days=today.weekday())
    return {
        "status": OPEN_STATUSES,
        "due_after": (monday - timedelta(days=1)).isoformat(),
        "due_before": (monday + timedelta(days=7)).isoformat(),
        "sortBy": "due_date",
        "sort": "asc",
    }


def _counted(db: Session, label: str, params: dict[str, str], note: str = "") -> Card:
    # The count and the link come from the same parameters: the list shows what was counted.
    return Card(label, count_tasks(db, task_filter(params)), urlencode(params), note)


def dashboard(session_factory: sessionmaker[Session], today: date) -> dict[str, object]:
    with session_factory() as db:
        by_status = dict(
            db.execute(select(Task.status, func.count()).group_by(Task.status)).all()
        )
        statuses = [
            Card(label, int(by_status.get(value, 0)), urlencode({"status": value}))
            for value, label in STATUS_LABELS.items()
        ]
        attention = [
            _counted(db, "Overdue", overdue_params(today), "open, due before today"),
            _counted(db, "Due this week", due_this_week_params(today), "open, due Monday to Sunday"),
        ]
        latest = list(
            db.execute(
                select(Task).outerjoin(Task.assignee).options(contains_eager(Task.assignee))
                .order_by(Task.updated_at.desc(), Task.id.desc()).limit(LATEST)
            ).scalars()
        )
    return {
        "title": "Dashboard",
        "statuses": statuses,
        "attention": attention,
        "latest": latest,
        "latest_query": urlencode({"sortBy": "updated_at", "sort": "desc"}),
        "status_labels": STATUS_LABELS,
        "today": today,
    }
