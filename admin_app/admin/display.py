"""How list and details pages show a value: a choice by its label, a related row by its shown column."""

from __future__ import annotations

from typing import Any

from admin_app.resources.spec import Relation, Resource
from models.common import jsonable


def _shown_by(shown: str) -> Any:
    def format_related(row: Any, attr: str) -> Any:
        related = getattr(row, attr)
        return getattr(related, shown) if related is not None else ""

    return format_related


def _labelled(labels: dict[Any, str]) -> Any:
    def format_choice(row: Any, attr: str) -> Any:
        value = getattr(row, attr)
        return labels.get(jsonable(value), value)

    return format_choice


def formatters(resource: Resource) -> dict[str, Any]:
    """List and details show a choice by its label and a related row by its shown column."""
    out: dict[str, Any] = {}
    for found in resource.fields:
        if isinstance(found, Relation):
            out[found.name] = _shown_by(found.shown)
        elif getattr(found, "choices", None):
            out[found.name] = _labelled({jsonable(k): v for k, v in found.choices.items()})
    return out
