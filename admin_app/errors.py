"""Errors the service layer raises; the API, the admin and the CLI each render them."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: a request that cannot be carried out, with a message fit for the user."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    status_code = 409


class InvalidInput(ServiceError):
    status_code = 422



class RowErrors(InvalidInput):
    """Several rows refused at once: `errors` maps each row's key to why (nothing was saved)."""

    def __init__(self, errors: dict) -> None:  # noqa: ANN001
        count = len(errors)
        super().__init__(f"{count} row{'s' if count != 1 else ''} could not be saved; nothing was saved.")
        self.errors = errors
