"""Validation errors in words people read: `Label: message`, never pydantic's jargon."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

# Fields of forms that belong to no table (the account page) and of every table.
COMMON_LABELS = {
    "id": "ID",
    "version": "Version",
    "password": "Password",
    "name": "Name",
    "expires_in_days": "Expires in (days)",
}


def label(field: str, labels: Mapping[str, str] | None = None) -> str:
    return (labels or {}).get(field) or COMMON_LABELS.get(field) or field.replace("_", " ").capitalize()


def _clean(msg: str) -> str:
    # pydantic prefixes errors raised by our own validators with "Value error, ".
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _message(err: dict) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    # Length limits on text read better in words than in pydantic's generic terms.
    if kind in ("too_short", "string_too_short") and isinstance(err.get("input"), str):
        return "must not be blank" if ctx.get("min_length") == 1 else (
            f"must be at least {ctx.get('min_length')} characters"
        )
    if kind in ("too_long", "string_too_long") and isinstance(err.get("input"), str):
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    return _clean(err.get("msg", "invalid"))


def field_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, message) for each error of a pydantic validation."""
    result = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if not isinstance(part, int)]
        result.append((loc[0] if loc else "", _message(err)))
    return result


def validation_message(exc: ValidationError, labels: Mapping[str, str] | None = None) -> str:
    """`Label: message` for every error, joined."""
    return "; ".join(
        f"{label(field, labels)}: {msg}" if field else msg for field, msg in field_errors(exc)
    )


def readable(message: str, labels: Mapping[str, str] | None = None) -> str:
    """A service's `field: message` with the field as the forms label it."""
    field, sep, rest = message.partition(": ")
    if sep and field.replace("_", "").replace(".", "").isalnum() and " " not in field:
        return f"{label(field.split('.')[-1], labels)}: {_clean(rest)}"
    return _clean(message)
