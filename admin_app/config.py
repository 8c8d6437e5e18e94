"""Loading settings with errors in one plain line instead of a traceback."""

from __future__ import annotations

from pydantic import ValidationError

from admin_app.settings import Settings


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for the operator."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ()))
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            parts.append(f"{field.upper()}: {message}" if field else message)
        raise ConfigError("invalid configuration: " + "; ".join(parts)) from None
