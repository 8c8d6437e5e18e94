"""Messages staff read: field names as the forms label them, never SQL or a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from admin_app.errors import Conflict, ServiceError
from admin_app.failures import DatabaseUnavailable, database_failure

logger = logging.getLogger("admin_app.admin")

FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "status": "Status",
    "priority": "Priority",
    "due_date": "Due date",
    "assignee_id": "Assignee",
    "assignee": "Assignee",
    "version": "Version",
    "email": "Email",
    "full_name": "Full name",
    "role": "Role",
    "is_active": "Active",
    "password": "Password",
    "name": "Name",
    "expires_in_days": "Expires in (days)",
}

CONFLICT = "The change conflicts with existing data; nothing was saved."
STALE = "Someone else changed this record meanwhile; reload it and try again."
NOT_SAVED = "The change could not be saved; nothing was changed."


def label(field: str, labels: Mapping[str, str] | None = None) -> str:
    labels = labels or FIELD_LABELS
    return labels.get(field) or FIELD_LABELS.get(field) or field.replace("_", " ").capitalize()


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


def readable(message: str) -> str:
    """A service's `field: message` with the field as the forms label it."""
    field, sep, rest = message.partition(": ")
    if sep and field.replace("_", "").replace(".", "").isalnum() and " " not in field:
        return f"{label(field.split('.')[-1])}: {_clean(rest)}"
    return _clean(message)


def service_message(exc: ServiceError) -> str:
    return readable(exc.message)


class StaffError(ServiceError):
    """A ServiceError whose message is already worded for the page."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message


@contextmanager
def staff_errors() -> Iterator[None]:
    """Turn anything a write can raise into a StaffError with a message fit to show.

    SQLAdmin puts `str(exception)` on the form: an IntegrityError would show the SQL
    statement and its parameters, so database errors become a fixed sentence (logged).
    """
    try:
        yield
    except StaffError:
        raise
    except ServiceError as exc:
        # Pages answer bad input with 400, as SQLAdmin's forms do (the API says 422).
        status_code = 400 if exc.status_code == 422 else exc.status_code
        raise StaffError(service_message(exc), status_code) from exc
    except ValidationError as exc:
        raise StaffError(validation_message(exc), 400) from exc
    except StaleDataError as exc:
        raise StaffError(STALE, Conflict.status_code) from exc
    except IntegrityError as exc:
        logger.warning("integrity error on an admin write: %s", exc.orig)
        raise StaffError(CONFLICT, Conflict.status_code) from exc
    except DataError as exc:  # a value the database refused that validation let through
        logger.warning("data error on an admin write: %s", exc.orig)
        raise StaffError(NOT_SAVED, 400) from exc
    except SQLAlchemyError as exc:
        failure = database_failure(exc)
        if failure is not None:  # outage, busy pool, statement timeout: say so, in words
            raise DatabaseUnavailable(failure) from exc
        logger.exception("database error on an admin write")
        raise StaffError(NOT_SAVED, 500) from exc
