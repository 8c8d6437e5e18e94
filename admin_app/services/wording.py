"""Validation errors in words people read: `Label: message`, never pydantic's jargon.

English by default (the API's and the CLI's words); the admin passes its `gettext`, and every
word here is marked `N_` so that the catalogs have it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydantic import ValidationError

from admin_app.errors import Words
from admin_app.i18n import N_
from models.common import Refusal

Gettext = Callable[[str], str]


def english(message: str) -> str:
    return message


# Fields of forms that belong to no table (the account page) and of every table.
COMMON_LABELS = {
    "id": N_("ID"),
    "version": N_("Version"),
    "password": N_("Password"),
    "name": N_("Name"),
    "expires_in_days": N_("Expires in (days)"),
}


def label(field: str, labels: Mapping[str, str] | None = None, gettext: Gettext = english) -> str:
    found = (labels or {}).get(field) or COMMON_LABELS.get(field)
    return gettext(str(found)) if found else field.replace("_", " ").capitalize()


def _clean(msg: str, gettext: Gettext = english) -> str:
    # pydantic prefixes errors raised by our own validators with "Value error, ".
    return gettext(msg.removeprefix("Value error, ").removeprefix("Assertion failed, "))


# pydantic's error types for values of the wrong kind, in the words a form shows.
KIND_WORDS = {
    "date_parsing": N_("must be a date like 2026-12-31"),
    "date_from_datetime_parsing": N_("must be a date like 2026-12-31"),
    "date_from_datetime_inexact": N_("must be a date like 2026-12-31"),
    "date_type": N_("must be a date like 2026-12-31"),
    "datetime_parsing": N_("must be a date and time like 2026-12-31 17:00"),
    "datetime_from_date_parsing": N_("must be a date and time like 2026-12-31 17:00"),
    "datetime_type": N_("must be a date and time like 2026-12-31 17:00"),
    "timezone_aware": N_("must say its time zone, like 2026-12-31 17:00+00:00"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "float_type": N_("must be a number"),
    "bool_parsing": N_("must be yes or no (true or false)"),
    "bool_type": N_("must be yes or no (true or false)"),
    "string_type": N_("must be text"),
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a field here"),
}


def _message(err: dict, gettext: Gettext = english, labels: Mapping[str, str] | None = None) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if isinstance(ctx.get("error"), Refusal):  # a template with values (models/common.py)
        refusal = ctx["error"]
        params = {k: label(v, labels, gettext) if k == "field" else v for k, v in refusal.params.items()}
        return Words(refusal.template, params).worded(gettext)
    if kind in KIND_WORDS:
        return gettext(KIND_WORDS[kind])
    if kind in ("enum", "literal_error") and ctx.get("expected"):
        # pydantic's "'a', 'b' or 'c'" as "one of a, b or c".
        return gettext(N_("must be one of %(choices)s")) % {"choices": str(ctx["expected"]).replace("'", "")}
    # Length limits on text read better in words than in pydantic's generic terms.
    if kind in ("too_short", "string_too_short") and isinstance(err.get("input"), str):
        if ctx.get("min_length") == 1:
            return gettext(N_("must not be blank"))
        return gettext(N_("must be at least %(count)s characters")) % {"count": ctx.get("min_length")}
    if kind in ("too_long", "string_too_long") and isinstance(err.get("input"), str):
        return gettext(N_("must be at most %(count)s characters")) % {"count": ctx.get("max_length")}
    if kind == "greater_than_equal":
        return gettext(N_("must be at least %(value)s")) % {"value": ctx.get("ge")}
    if kind == "less_than_equal":
        return gettext(N_("must be at most %(value)s")) % {"value": ctx.get("le")}
    return _clean(err.get("msg", "invalid"), gettext)


def field_errors(
    exc: ValidationError, gettext: Gettext = english, labels: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(field, message) for each error of a pydantic validation (`labels`: how a message
    names a field it refuses)."""
    result = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if not isinstance(part, int)]
        result.append((loc[0] if loc else "", _message(err, gettext, labels)))
    return result


def validation_message(
    exc: ValidationError, labels: Mapping[str, str] | None = None, gettext: Gettext = english
) -> str:
    """`Label: message` for every error, joined."""
    return "; ".join(
        f"{label(field, labels, gettext)}: {msg}" if field else msg
        for field, msg in field_errors(exc, gettext, labels)
    )


class Invalid:
    """A validation's errors as words: English as `str()`, translated by `worded` (a
    refusal's parameter, see errors.Words)."""

    def __init__(self, exc: ValidationError, labels: Mapping[str, str] | None = None) -> None:
        self.exc, self.labels = exc, labels

    def __str__(self) -> str:
        return validation_message(self.exc, self.labels)

    def worded(self, gettext: Gettext) -> str:
        return validation_message(self.exc, self.labels, gettext)


def readable(message: str, labels: Mapping[str, str] | None = None, gettext: Gettext = english) -> str:
    """A service's `field: message` with the field as the forms label it (`message` already
    in the page's words: `gettext` translates the label only)."""
    field, sep, rest = message.partition(": ")
    if sep and field.replace("_", "").replace(".", "").isalnum() and " " not in field:
        return f"{label(field.split('.')[-1], labels, gettext)}: {_clean(rest)}"
    return _clean(message)
