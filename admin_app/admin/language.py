"""The language of each admin request: the user's choice in My account, else the browser's
`Accept-Language`, else English. Chosen once per request, before any page code runs."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from admin_app.admin.compat import follow_language
from admin_app.i18n import DEFAULT_LANGUAGE, negotiate, set_language, translations
from auth.authenticator import Authenticator
from models.user import LANGUAGES

# Files need no language (and no session look-up).
_NO_LANGUAGE = ("/assets/", "/statics/")


def choose_language(user_choice: str | None, accept_language: str | None) -> str:
    if user_choice in LANGUAGES:
        return user_choice  # type: ignore[return-value]
    return negotiate(accept_language) or DEFAULT_LANGUAGE


class LanguageMiddleware:
    """Sets the request's language for our templates and messages and for SQLAdmin's own."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("path", "").startswith(_NO_LANGUAGE, len(scope.get("root_path", ""))):
            connection = HTTPConnection(scope)
            # The principal is cached on the request: authentication reuses this look-up.
            principal = await self.authenticator.principal_async(connection)
            language = choose_language(getattr(principal, "language", None), connection.headers.get("accept-language"))
            set_language(language)
            follow_language(language, translations(language))
        await self.app(scope, receive, send)
