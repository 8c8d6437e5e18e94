"""`admin-app serve`: migrate, create the first admin if there is none, and serve."""

from __future__ import annotations

import argparse
import signal

from admin_app.cli.common import command_settings, engine_for, migrate_to_head


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from admin_app.bootstrap import ensure_first_admin
    from auth.passwords import Passwords

    settings = command_settings()
    settings.secret_key_value()  # generate the development key once, before workers start
    engine = engine_for(settings)
    try:
        migrate_to_head(engine)
        first = ensure_first_admin(engine, settings, Passwords.from_settings(settings))
    finally:
        engine.dispose()
    if first is not None:
        if first.generated_password:
            print(
                "\n" + "=" * 64
                + f"\nFirst admin account created:\n  email:    {first.email}"
                + f"\n  password: {first.generated_password}"
                + "\nThis password is shown once. Log in and change it."
                + ("\nThe first login sets up two-factor sign-in (MFA_REQUIRED_ROLES)."
                   if "admin" in settings.mfa_required_roles else "")
                + "\n" + "=" * 64 + "\n",
                flush=True,
            )
        else:
            print(f"First admin account created: {first.email}", flush=True)
    print(f"Admin: http://{_url_host(args.host)}:{args.port}/admin", flush=True)
    hint = _allowed_hosts_hint(settings, args.host)
    if hint:
        print(hint, flush=True)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal; a no-op
    # handler there lets `serve` exit 0 after a clean shutdown instead of dying by signal.
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(
        "admin_app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=None if args.reload else args.workers,
        reload=args.reload,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=args.graceful_timeout,
        log_config=_log_config(),
    )
    return 0


LOCAL_BINDS = frozenset({"127.0.0.1", "localhost", "::1"})


def _url_host(host: str) -> str:
    """The host to print in the admin's URL: a wildcard bind is reached as 127.0.0.1."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _allowed_hosts_hint(settings, bind: str) -> str | None:  # noqa: ANN001
    """What to set when the app is reachable from elsewhere but answers only local names."""
    if settings.allowed_hosts or bind in LOCAL_BINDS:
        return None
    names = ", ".join(settings.effective_allowed_hosts)
    return (
        f"Note: only requests for {names} are answered (others get 400). Set ALLOWED_HOSTS "
        "to the names or addresses clients use, e.g. ALLOWED_HOSTS=admin.example.com,192.0.2.10"
    )


def _log_config() -> dict:
    """uvicorn's logging, with the app's own records (failures, request ids) beside its own."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["admin_app"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
