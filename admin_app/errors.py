"""Errors the service layer raises; the API, the admin and the CLI each render them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Words:
    """A message as code makes it: English, a `%(name)s` template when it has `params`.

    Marked with `N_` where it is made, the template is extracted into the catalogs; `str()`
    is the English text (the API's `detail`, the CLI's words), `worded(gettext)` the text in
    the admin's language."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template % self.params if self.params else self.template

    def worded(self, gettext: Callable[[str], str]) -> str:
        text = gettext(self.template)
        if not self.params:
            return text
        params = {k: v.worded(gettext) if hasattr(v, "worded") else v for k, v in self.params.items()}
        try:
            return text % params
        except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
            return str(self)


class ServiceError(Exception):
    """Base: a request that cannot be carried out, with a message fit for the user:
    `ServiceError(N_("No view %(name)s."), name=name)` (see Words)."""

    status_code = 400

    def __init__(self, message: str | Words, /, **params: Any) -> None:
        self.words = message if isinstance(message, Words) else Words(message, params)
        self.message = str(self.words)
        super().__init__(self.message)

    def worded(self, gettext: Callable[[str], str]) -> str:
        """The message in the words `gettext` gives (the admin's language)."""
        return self.words.worded(gettext)


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

    def __init__(self, errors: dict[Any, Words]) -> None:
        count = len(errors)
        super().__init__(f"{count} row{'s' if count != 1 else ''} could not be saved; nothing was saved.")
        self.errors = errors
