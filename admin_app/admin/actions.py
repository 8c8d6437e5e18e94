"""The bulk actions of the task and user lists, each a small named function over the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from admin_app.admin.bulk import BulkAction, BulkRun, BulkTarget
from admin_app.services import tasks as task_service
from admin_app.services import users as user_service
from admin_app.services.tasks import BulkSet
from auth.sessions import end_user_sessions
from models import TaskStatus, User, UserUpdate

# --- tasks: one UPDATE or DELETE whatever the number of rows -------------------------------

def _update(db: Session, run: BulkRun, target: BulkTarget, changes: BulkSet) -> int:
    return task_service.bulk_update_tasks(
        db, changes, actor=run.actor, ids=target.ids, spec=target.spec
    )


def _set_status(status: TaskStatus):  # noqa: ANN202
    def apply(db: Session, run: BulkRun, target: BulkTarget, _value: Any) -> int:
        return _update(db, run, target, BulkSet(status=status))

    return apply


def set_priority(db: Session, run: BulkRun, target: BulkTarget, value: int) -> int:
    return _update(db, run, target, BulkSet(priority=value))


def assign(db: Session, run: BulkRun, target: BulkTarget, value: int) -> int:
    return _update(db, run, target, BulkSet(assignee_id=value))


def unassign(db: Session, run: BulkRun, target: BulkTarget, _value: Any) -> int:
    return _update(db, run, target, BulkSet(assignee_id=None))


def delete(db: Session, run: BulkRun, target: BulkTarget, _value: Any) -> int:
    return task_service.bulk_delete_tasks(db, actor=run.actor, ids=target.ids, spec=target.spec)


MARK_PENDING = BulkAction("Mark as pending", "marked pending", _set_status(TaskStatus.pending))
MARK_IN_PROGRESS = BulkAction(
    "Mark as in progress", "marked in progress", _set_status(TaskStatus.in_progress)
)
MARK_DONE = BulkAction("Mark as done", "marked done", _set_status(TaskStatus.done))
MARK_CANCELLED = BulkAction("Mark as cancelled", "marked cancelled", _set_status(TaskStatus.cancelled))
SET_PRIORITY = BulkAction("Set priority", "set to priority {value}", set_priority, ask="priority")
ASSIGN = BulkAction("Assign to a user", "assigned to {value}", assign, ask="assignee")
UNASSIGN = BulkAction("Unassign", "unassigned", unassign)
DELETE = BulkAction("Delete", "deleted", delete, danger=True)


# --- users: few rows, each through the user service (last-admin guard, sessions) -----------

def _users(db: Session, target: BulkTarget) -> list[User]:
    query = select(User).where(User.id.in_(target.ids or [])).order_by(User.id)
    return list(db.execute(query).scalars())


def _set_active(active: bool):  # noqa: ANN202
    def apply(db: Session, run: BulkRun, target: BulkTarget, _value: Any) -> int:
        users = _users(db, target)
        for user in users:
            user_service.update_user(
                db, run.passwords, user, UserUpdate(is_active=active),
                keep_session_id=run.session_id if user.id == run.actor.user_id else None,
            )
        return len(users)

    return apply


def end_sessions(db: Session, run: BulkRun, target: BulkTarget, _value: Any) -> int:
    """End every session of the chosen users (but the one running this)."""
    users = _users(db, target)
    for user in users:
        end_user_sessions(db, user.id, keep_session_id=run.session_id)
    return len(users)


ACTIVATE = BulkAction("Activate", "activated", _set_active(True))
DEACTIVATE = BulkAction("Deactivate", "deactivated (their sessions ended)", _set_active(False), danger=True)
END_SESSIONS = BulkAction("End all sessions", "logged out everywhere", end_sessions, danger=True)
