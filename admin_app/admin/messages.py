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
from admin_app.i18n import N_
from admin_app.i18n import gettext as _
from admin_app.services.wording import field_errors, readable, validation_message

logger = logging.getLogger("admin_app.admin")

CONFLICT = N_("The change conflicts with existing data; nothing was saved.")
STALE = N_("Someone else changed this record meanwhile; reload it and try again.")
NOT_SAVED = N_("The change could not be saved; nothing was changed.")


def service_message(exc: ServiceError, labels: Mapping[str, str] | None = None) -> str:
    """A service's refusal in the page's language, its field as the form labels it."""
    return readable(exc.worded(_), labels, _)


def message_fields(exc: ServiceError, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """The field a service's `field: message` names, with the message as the page words it."""
    if isinstance(exc, StaffError):
        return exc.fields
    field, sep, _rest = exc.message.partition(": ")
    if sep and field.replace("_", "").isalnum():
        return {field: service_message(exc, labels)}
    return {}


class StaffError(ServiceError):
    """A ServiceError whose message is already worded for the page."""

    def __init__(self, message: str, status_code: int = 400, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        # field name -> its worded message: the form shows each under its field, tied to it.
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        return self.message


@contextmanager
def staff_errors(labels: Mapping[str, str] | None = None) -> Iterator[None]:
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
        raise StaffError(service_message(exc, labels), status_code, message_fields(exc, labels)) from exc
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for field, msg in field_errors(exc, _):
            if field:
                fields[field] = "; ".join(filter(None, [fields.get(field), readable(f"{field}: {msg}", labels, _)]))
        raise StaffError(validation_message(exc, labels, _), 400, fields) from exc
    except StaleDataError as exc:
        raise StaffError(_(STALE), Conflict.status_code) from exc
    except IntegrityError as exc:
        logger.warning("integrity error on an admin write: %s", exc.orig)
        raise StaffError(_(CONFLICT), Conflict.status_code) from exc
    except DataError as exc:  # a value the database refused that validation let through
        logger.warning("data error on an admin write: %s", exc.orig)
        raise StaffError(_(NOT_SAVED), 400) from exc
    except SQLAlchemyError as exc:
        failure = database_failure(exc)
        if failure is not None:  # outage, busy pool, statement timeout: say so, in words
            raise DatabaseUnavailable(failure) from exc
        logger.exception("database error on an admin write")
        raise StaffError(_(NOT_SAVED), 500) from exc
