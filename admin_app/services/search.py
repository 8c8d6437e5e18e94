"""Substring search that means the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(term: str, *columns: Any) -> ColumnElement[bool]:
    """Any of `columns` contains `term`, case-insensitively; `%` and `_` are literal."""
    pattern = f"%{escape_like(term)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))
