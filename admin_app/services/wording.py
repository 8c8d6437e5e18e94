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


# pydantic's error types for values of the wrong kind, in the words a form shows.
KIND_WORDS = {
    "date_parsing": "must be a date like 2026-12-31",
    "date_from_datetime_parsing": "must be a date like 2026-12-31",
    "date_from_datetime_inexact": "must be a date like 2026-12-31",
    "date_type": "must be a date like 2026-12-31",
    "datetime_parsing": "must be a date and time like 2026-12-31 17:00",
    "datetime_from_date_parsing": "must be a date and time like 2026-12-31 17:00",
    "datetime_type": "must be a date and time like 2026-12-31 17:00",
    "timezone_aware": "must say its time zone, like 2026-12-31 17:00+00:00",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be yes or no (true or false)",
    "bool_type": "must be yes or no (true or false)",
    "string_type": "must be text",
    "missing": "is required",
    "extra_forbidden": "is not a field here",
}


def _one_of(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "one of a, b or c"."""
    return "must be one of " + expected.replace("'", "")


def _message(err: dict) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind in KIND_WORDS:
        return KIND_WORDS[kind]
    if kind in ("enum", "literal_error") and ctx.get("expected"):
        return _one_of(str(ctx["expected"]))
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
