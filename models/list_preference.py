"""A user's choice of a list's columns (which, in which order), one row per user and list."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.common import UTCDateTime, utcnow

COLUMNS_MAX = 1000


class ListPreference(SQLModel, table=True):
    __tablename__ = "list_preference"
    __table_args__ = (UniqueConstraint("user_id", "list_name", name="uq_list_preference_user_list"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    list_name: str = Field(max_length=64)  # the declaration's name: "task"
    columns: str = Field(max_length=COLUMNS_MAX)  # field names, comma separated, in order
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
