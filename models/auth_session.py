"""Server-side login sessions: the browser's cookie carries only an opaque id."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from models.common import Output, UTCDateTime, utcnow


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"

    # SHA-256 of the random id in the cookie: a leaked table gives no usable session.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    ip_address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    # How the login behind it passed the second factor (totp, recovery, passkey), or None.
    second_factor: str | None = Field(default=None, max_length=16)


class AuthSessionPublic(Output):
    id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip_address: str
    user_agent: str
    second_factor: str | None = None
    current: bool = False
