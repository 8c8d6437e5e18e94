"""A saved view of a list: its search, filters, sort, page size and columns, under a name.

Personal (only its owner sees it) or shared (everyone who may read that list sees it; admins
manage those). The list state is kept as the admin list's own query string, normalised and
validated by the list's filter and sort parsing when it is saved.
"""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlmodel import Field

from models.common import Output, Stamped, version_column

NAME_MAX = 80
QUERY_MAX = 2000
COLUMNS_MAX = 1000

_VERSION = version_column()


class SavedView(Stamped, table=True):
    __tablename__ = "saved_view"
    __mapper_args__ = {"version_id_col": _VERSION}
    __table_args__ = (
        UniqueConstraint("owner_id", "resource", "name", name="uq_saved_view_owner_resource_name"),
        # Among shared views of a list, a name is unique too (partial index: both dialects).
        Index("uq_saved_view_shared_name", "resource", "name", unique=True,
              sqlite_where=text("shared"), postgresql_where=text("shared")),
        Index("ix_saved_view_resource_shared", "resource", "shared"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resource: str = Field(max_length=64)  # the declaration's name: "task"
    name: str = Field(max_length=NAME_MAX)
    owner_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    shared: bool = Field(default=False, nullable=False)
    query: str = Field(default="", max_length=QUERY_MAX)  # the list's query string: search, filters, sort, page size
    columns: str = Field(default="", max_length=COLUMNS_MAX)  # field names, comma separated; empty: the user's own
    version: int = Field(default=1, sa_column=_VERSION)


class SavedViewPublic(Output):
    """A saved view as the API shows it."""

    id: int
    resource: str = Field(description="The list it belongs to: `task`, `project`, `user`")
    name: str
    owner_id: int
    shared: bool
    query: str = Field(description="The admin list's query string: search, filters, sort, page size "
                       "(`status=pending,in_progress&sortBy=due_date&sort=asc&pageSize=50`)")
    columns: list[str] = Field(description="The columns the list shows; empty: the user's own choice")
    created_at: datetime
    updated_at: datetime
    version: int
