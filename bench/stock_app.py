"""The comparator: stock SQLAdmin over the same task table, as its docs show, with no auth.

Same columns, sortable columns, search fields, default sort and page size (25) as our
TaskAdmin, and SQLAdmin's own filters for status, priority and assignee. Nothing tuned:
this is what a team gets out of the box. Run: `uvicorn bench.stock_app:create_app --factory`.
"""

from __future__ import annotations

import os
from datetime import date, datetime

from fastapi import FastAPI
from sqladmin import Admin, ModelView
from sqladmin.filters import ForeignKeyFilter, StaticValuesFilter
from sqlalchemy import DateTime, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))

    def __str__(self) -> str:
        return self.email


class Task(Base):
    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    def __str__(self) -> str:
        return f"#{self.id} {self.title}"


STATUSES = [("pending", "Pending"), ("in_progress", "In progress"), ("done", "Done"), ("cancelled", "Cancelled")]


class TaskAdmin(ModelView, model=Task):
    column_list = [
        Task.id, Task.title, Task.status, Task.priority, Task.assignee, Task.due_date, Task.updated_at,
    ]
    column_sortable_list = [
        Task.id, Task.title, Task.status, Task.priority, Task.due_date, Task.updated_at,
    ]
    column_searchable_list = [Task.title, Task.description]
    column_default_sort = [(Task.id, True)]
    column_filters = [
        StaticValuesFilter(Task.status, values=STATUSES),
        StaticValuesFilter(Task.priority, values=[(str(p), str(p)) for p in range(1, 6)]),
        ForeignKeyFilter(Task.assignee_id, User.email, title="Assignee"),
    ]
    page_size = 25


def database_url() -> str:
    url = os.environ["DATABASE_URL"]
    # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; psycopg2 is what is installed.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def create_app() -> FastAPI:
    url = database_url()
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=connect_args)
    app = FastAPI()
    admin = Admin(app, engine)
    admin.add_view(TaskAdmin)
    return app
