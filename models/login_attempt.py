"""Failed logins, kept in the database so throttling holds across processes and restarts."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.common import UTCDateTime, utcnow


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
