"""Realistic, varied demo data, inserted set-wise so 100,000 tasks take seconds."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, insert, select

from admin_app.audit import created_entries
from admin_app.db import build_session_factory
from admin_app.services.actor import CLI_ACTOR
from auth.passwords import Passwords
from models import Project, Role, Task, TaskStatus, User

DEMO_USERS = [
    ("alice.martin@example.com", "Alice Martin", Role.editor),
    ("bob.nguyen@example.com", "Bob Nguyen", Role.editor),
    ("carla.rossi@example.com", "Carla Rossi", Role.viewer),
    ("dev.patel@example.com", "Dev Patel", Role.editor),
    ("emma.schmidt@example.com", "Emma Schmidt", Role.viewer),
]
VERBS = [
    "Review", "Update", "Prepare", "Send", "Call", "Fix", "Plan", "Check", "Renew",
    "Archive", "Draft", "Approve", "Reconcile", "Schedule", "Migrate", "Audit",
]
OBJECTS = [
    "the Q3 invoice batch", "supplier contract", "onboarding checklist", "the refund request",
    "warehouse stock count", "customer complaint", "payroll export", "office lease",
    "VAT return", "shipping labels", "the CRM duplicates", "holiday rota", "price list",
    "support backlog", "server certificate", "expense reports", "the newsletter",
]
DETAILS = [
    None, "Waiting on finance for the final numbers.", "Customer asked for an update by Friday.",
    "See the shared drive folder for the template.", "Blocked until the vendor replies.",
    "Low effort, do it between calls.", "Needs sign-off from the team lead.",
]
DEMO_PROJECTS = [
    ("FIN", "Finance close", "Month-end and quarter-end closing."),
    ("OPS", "Operations", "Warehouse, shipping and suppliers."),
    ("HR", "People", "Onboarding, payroll and the holiday rota."),
    ("IT", "IT and tooling", "Certificates, migrations and the CRM."),
    ("MKT", "Marketing", "Newsletter, price list and campaigns."),
]
STATUS_WEIGHTS = [
    (TaskStatus.pending, 40), (TaskStatus.in_progress, 25),
    (TaskStatus.done, 30), (TaskStatus.cancelled, 5),
]
BATCH = 5000


def ensure_demo_users(session, passwords: Passwords) -> list[int]:  # noqa: ANN001
    """The demo users (created once; they cannot log in until an admin sets a password)."""
    existing = {
        email for (email,) in session.execute(
            select(User.email).where(User.email.in_([u[0] for u in DEMO_USERS]))
        )
    }
    missing = [u for u in DEMO_USERS if u[0] not in existing]
    if missing:
        import secrets

        locked = passwords.hash(secrets.token_urlsafe(32))  # one hash, unknown to anyone
        session.execute(
            insert(User),
            [
                {"email": email, "full_name": name, "role": role.value, "is_active": True,
                 "hashed_password": locked, "version": 1,
                 "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}
                for email, name, role in missing
            ],
        )
    return list(session.execute(select(User.id)).scalars())


def ensure_demo_projects(session, owner_ids: list[int], rng: random.Random) -> list[int]:  # noqa: ANN001
    """The demo projects (created once), each owned by a demo user."""
    existing = set(session.execute(select(Project.code)).scalars())
    missing = [p for p in DEMO_PROJECTS if p[0] not in existing]
    if missing:
        now = datetime.now(UTC)
        session.execute(insert(Project), [
            {"code": code, "name": name, "description": description, "archived": False,
             "owner_id": rng.choice(owner_ids) if owner_ids else None,
             "created_at": now, "updated_at": now, "version": 1}
            for code, name, description in missing
        ])
    return list(session.execute(select(Project.id).where(Project.archived.is_(False))).scalars())


def _task_rows(count: int, user_ids: list[int], project_ids: list[int], rng: random.Random, now: datetime):
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    today = now.date()
    for _ in range(count):
        status = rng.choices(statuses, weights)[0]
        created = now - timedelta(minutes=rng.randint(0, 180 * 24 * 60))
        updated = created + timedelta(minutes=rng.randint(0, 7 * 24 * 60))
        if updated > now:
            updated = now
        due: date | None = (
            today + timedelta(days=rng.randint(-60, 90)) if rng.random() < 0.8 else None
        )
        yield {
            "title": f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}",
            "description": rng.choice(DETAILS),
            "status": status.value,
            "priority": rng.choices([1, 2, 3, 4, 5], [30, 30, 20, 12, 8])[0],
            "due_date": due,
            "assignee_id": rng.choice(user_ids) if user_ids and rng.random() < 0.85 else None,
            "project_id": rng.choice(project_ids) if project_ids and rng.random() < 0.7 else None,
            "created_by_id": rng.choice(user_ids) if user_ids else None,
            "created_at": created,
            "updated_at": updated,
            "completed_at": updated if status == TaskStatus.done else None,
            "version": 1,
        }


def insert_demo_data(
    engine: Engine, passwords: Passwords, *, tasks: int, seed: int | None = None
) -> int:
    """Add demo users, projects and `tasks` tasks in one transaction; returns the number of tasks."""
    rng = random.Random(seed)
    factory = build_session_factory(engine)
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        first_user = session.execute(select(func.max(User.id))).scalar() or 0
        user_ids = ensure_demo_users(session, passwords)
        first_project = session.execute(select(func.max(Project.id))).scalar() or 0
        project_ids = ensure_demo_projects(session, user_ids, rng)
        first_task = session.execute(select(func.max(Task.id))).scalar() or 0
        rows = _task_rows(tasks, user_ids, project_ids, rng, now)
        remaining = tasks
        while remaining > 0:
            size = min(BATCH, remaining)
            session.execute(insert(Task), [next(rows) for _ in range(size)])
            remaining -= size
        # One audit entry per row the set-based inserts added, written by INSERT ... SELECT.
        for model, entity, first in ((User, "user", first_user), (Project, "project", first_project),
                                     (Task, "task", first_task)):
            created_entries(session, model, entity, model.id > first, CLI_ACTOR)
    return tasks
