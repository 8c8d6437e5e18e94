"""Background jobs: a bulk edit or delete over more rows than one request should hold, done in
chunks by a worker in any server process, its progress in this row (admin_app/services/jobs.py)."""

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from models.common import Output, UTCDateTime, utcnow


class JobStatus(str, Enum):
    queued = "queued"  # waiting for a worker (new, or resumed)
    running = "running"  # a worker is on it (its heartbeat says it still is)
    cancelling = "cancelling"  # asked to stop: the worker stops after the chunk it is on
    cancelled = "cancelled"
    interrupted = "interrupted"  # its process stopped midway: the rows done so far stay done
    failed = "failed"  # a rule or an error stopped it; the rows done so far stay done
    done = "done"


ACTIVE = (JobStatus.queued.value, JobStatus.running.value, JobStatus.cancelling.value)


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # update, delete or import
    resource: str = Field(max_length=64)  # the declared table's name
    action: str = Field(default="", max_length=64)  # the admin action's slug ("" from the API)
    title: str = Field(max_length=120)  # the change set's summary starts with it ("Mark as done")
    values: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # update: column -> value
    shown: str = Field(default="", max_length=300)  # how the admin's message names the value
    filter: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the filter, as the API takes it
    actor_id: int | None = Field(default=None, index=True)  # no foreign key, as for audit entries
    actor_label: str = Field(max_length=254)
    via: str = Field(max_length=16)
    session_id: str | None = Field(default=None, max_length=128)
    status: str = Field(default=JobStatus.queued.value, max_length=16)
    total: int = Field(default=0)  # rows the filter matched when the job started
    done: int = Field(default=0)  # rows gone through (matched, in id order)
    changed: int = Field(default=0)  # rows written (the others had the values already)
    created: int = Field(default=0)  # an import: rows created (the other rows changed were updated)
    last_id: int = Field(default=0)  # every matching row up to this id is done: where to resume
    # (an import: the rows of the file done, in the file's order)
    max_id: int = Field(default=0)  # rows added after the start (higher ids) are left alone
    change_set_id: int | None = Field(default=None)  # the rows done so far, one change set
    error: str = Field(default="", max_length=500)
    owner: str = Field(default="", max_length=64)  # the process working on it (host:pid)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobInput(SQLModel, table=True):
    """An import job's rows, as the preview checked them; kept until the job ends."""

    __tablename__ = "job_input"

    job_id: int = Field(primary_key=True, foreign_key="job.id")
    columns: list[str] = Field(default_factory=list, sa_type=JSON)  # the fields the file gives
    rows: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # {"values", "id", "version"}


class JobPublic(Output):
    id: int
    kind: str
    resource: str
    title: str
    filter: dict[str, Any]
    values: dict[str, Any] | None
    status: str
    total: int
    done: int
    changed: int
    created: int = 0  # an import: of the rows changed, those created (the others were updated)
    change_set_id: int | None
    error: str
    actor_label: str
    via: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seconds_left: float | None = None  # at the rate so far; None before the first chunk and once ended
