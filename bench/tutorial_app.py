"""The seed tutorial's Task API, read path only, against our task table (no auth).

As /work/shared/seed/sqlmodel-neon-tutorial.md writes it: a SQLModel `Task`, the engine and
pool made in the lifespan, a `get_session` dependency, `GET /tasks/{task_id}` with
`session.get`. Two production changes the tutorial itself recommends: SQL echo off, and
no `create_all` (the table already exists, made by our migrations).
Run: `uvicorn bench.tutorial_app:app`.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime
from typing import Optional

from fastapi import Depends, FastAPI, HTTPException
from sqlmodel import Field, Session, SQLModel, create_engine


def database_url() -> str:
    import os

    url = os.environ["DATABASE_URL"]
    # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; psycopg2 is what is installed.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


class Task(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)  # noqa: UP045 (tutorial style)
    title: str = Field(min_length=1, max_length=200)
    description: Optional[str] = Field(default=None, max_length=1000)  # noqa: UP045
    status: str = Field(default="pending")
    priority: int = Field(default=1, ge=1, le=5)
    created_at: datetime = Field(default_factory=datetime.utcnow)
    completed_at: Optional[datetime] = None  # noqa: UP045


@asynccontextmanager
async def lifespan(app: FastAPI):  # noqa: ANN201
    url = database_url()
    if url.startswith("sqlite"):
        app.state.engine = create_engine(url, echo=False, connect_args={"check_same_thread": False})
    else:
        app.state.engine = create_engine(
            url, echo=False, pool_size=10, max_overflow=20, pool_timeout=30, pool_pre_ping=True
        )
    yield
    app.state.engine.dispose()


app = FastAPI(lifespan=lifespan)


def get_session():  # noqa: ANN201
    with Session(app.state.engine) as session:
        yield session


@app.get("/tasks/{task_id}", response_model=Task)
def get_task(task_id: int, session: Session = Depends(get_session)):  # noqa: ANN201, B008
    task = session.get(Task, task_id)
    if not task:
        raise HTTPException(status_code=404, detail="Task not found")
    return task
