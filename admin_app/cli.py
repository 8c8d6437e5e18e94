"""The `admin-app` command: serve, migrate, create-user, demo-data, check, and the
second-factor chores (rotate-mfa-key, reset-second-factors)."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from admin_app.config import ConfigError, load_settings
from admin_app.db import DatabaseURLError, build_engine, normalize_database_url
from admin_app.errors import ServiceError
from models import Role


class CommandError(Exception):
    """A failure explained in one line; exits with status 1."""


def _database_label(settings) -> str:  # noqa: ANN001
    return normalize_database_url(settings.database_url).render_as_string(hide_password=True)


def _unreachable(exc: SQLAlchemyError, label: str) -> CommandError:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else "no answer"
    return CommandError(f"database unreachable ({label}): {reason}")


def _engine_for(settings):  # noqa: ANN001, ANN202
    """An engine whose database answers, or a one-line CommandError."""
    from sqlalchemy import text

    # Commands are not requests: no request-sized statement timeout (migrations, demo data).
    engine = build_engine(settings.model_copy(update={"db_statement_timeout_ms": 0}))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        raise _unreachable(exc, _database_label(settings)) from None
    return engine


def _settings():  # noqa: ANN202
    settings = load_settings()
    normalize_database_url(settings.database_url)  # validate early, one line on error
    return settings


def _migrate(engine) -> str | None:  # noqa: ANN001
    from admin_app.migrate import current_revision, upgrade_to_head

    upgrade_to_head(engine)
    return current_revision(engine)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from admin_app.bootstrap import ensure_first_admin
    from auth.passwords import Passwords

    settings = _settings()
    settings.secret_key_value()  # generate the development key once, before workers start
    engine = _engine_for(settings)
    try:
        _migrate(engine)
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


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = _settings()
    engine = _engine_for(settings)
    try:
        revision = _migrate(engine)
    finally:
        engine.dispose()
    print(f"Database at revision {revision} (head).")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password (again): ")
    if first != second:
        raise CommandError("the two passwords differ")
    return first


def cmd_create_user(args: argparse.Namespace) -> int:
    from admin_app.audit import bind_actor, install
    from admin_app.db import build_session_factory
    from admin_app.migrate import upgrade_to_head
    from admin_app.resources import default_resources
    from admin_app.services.actor import CLI_ACTOR
    from admin_app.services.users import create_user
    from auth.passwords import Passwords

    install(default_resources())
    settings = _settings()
    password = _read_password(args)
    engine = _engine_for(settings)
    try:
        upgrade_to_head(engine)
        factory = build_session_factory(engine)
        with factory() as session, session.begin():
            bind_actor(session, CLI_ACTOR)
            user = create_user(
                session,
                Passwords.from_settings(settings),
                email=args.email,
                password=password,
                role=args.role,
                full_name=args.full_name or "",
            )
            email, role = user.email, user.role
    finally:
        engine.dispose()
    print(f"Created {role} {email}.")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    import time

    from admin_app.demo import insert_demo_data
    from admin_app.migrate import upgrade_to_head
    from auth.passwords import Passwords

    settings = _settings()
    engine = _engine_for(settings)
    started = time.perf_counter()
    try:
        upgrade_to_head(engine)
        count = insert_demo_data(
            engine, Passwords.from_settings(settings), tasks=args.tasks, seed=args.seed
        )
    finally:
        engine.dispose()
    print(f"Inserted {count:,} tasks in {time.perf_counter() - started:.1f} s.")
    return 0


def _auth_config(settings):  # noqa: ANN001, ANN202
    from auth.config import AuthConfig

    return AuthConfig.from_settings(settings)


def cmd_rotate_mfa_key(_args: argparse.Namespace) -> int:
    from admin_app.db import build_session_factory
    from admin_app.migrate import upgrade_to_head
    from auth.mfa import SecondFactors

    settings = _settings()
    mfa = SecondFactors(_auth_config(settings))
    engine = _engine_for(settings)
    try:
        upgrade_to_head(engine)
        with build_session_factory(engine)() as session, session.begin():
            done, unreadable = mfa.reencrypt_all(session)
    finally:
        engine.dispose()
    print(f"Re-encrypted {done} authenticator secret{'s' if done != 1 else ''} under the first key.")
    if unreadable:
        raise CommandError(
            f"{unreadable} secret(s) opened with none of MFA_ENCRYPTION_KEYS (left as they were): "
            "add the key they were encrypted with, or reset those users' second factors"
        )
    return 0


def cmd_reset_second_factors(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from admin_app import audit
    from admin_app.db import build_session_factory
    from admin_app.migrate import upgrade_to_head
    from admin_app.services.actor import CLI_ACTOR
    from auth.mfa import SecondFactors
    from auth.sessions import end_user_sessions
    from models import User

    audit.install()
    settings = _settings()
    mfa = SecondFactors(_auth_config(settings))
    engine = _engine_for(settings)
    email = args.email.strip().lower()
    try:
        upgrade_to_head(engine)
        with build_session_factory(engine)() as session, session.begin():
            audit.bind_actor(session, CLI_ACTOR)
            user_id = session.execute(select(User.id).where(User.email == email)).scalar_one_or_none()
            if user_id is None:
                raise CommandError(f"no user {email}")
            had = mfa.reset(session, user_id)
            ended = end_user_sessions(session, user_id)
            audit.record(session, "mfa_reset", "user", user_id, actor=CLI_ACTOR, details={
                "totp": had.totp, "passkeys": had.passkeys, "recovery_codes": had.recovery_left,
                "sessions_ended": ended,
            })
    finally:
        engine.dispose()
    print(f"Second factors of {email} reset; {ended} session{'s' if ended != 1 else ''} ended.")
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    from admin_app.migrate import current_revision, head_revision

    settings = _settings()
    print(f"Environment:  {settings.app_env.value}")
    print(f"Database:     {_database_label(settings)}")
    hosts = ", ".join(settings.effective_allowed_hosts)
    print(f"Hosts:        {hosts}" + ("" if settings.allowed_hosts else " (development default)"))
    if settings.secret_key is None:
        print(f"Secret key:   generated, kept in {settings.dev_secret_path()}")
    else:
        print("Secret key:   set")
    roles = ", ".join(settings.mfa_required_roles) or "no role"
    keys = len(settings.mfa_encryption_keys)
    print(f"Two-factor:   required for {roles}; secrets encrypted with "
          + (f"MFA_ENCRYPTION_KEYS ({keys} key{'s' if keys != 1 else ''})" if keys else "a key from SECRET_KEY"))
    engine = _engine_for(settings)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    print("Reachable:    yes")
    head = head_revision()
    if revision == head:
        print(f"Schema:       up to date (revision {revision})")
    else:
        print(f"Schema:       at {revision or 'nothing'}, head is {head}: run `admin-app migrate`")
    print("Configuration OK.")
    return 0


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return number


def _port(value: str) -> int:
    number = _positive(value)
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="admin-app",
        description="Back-office admin for the task service. Settings come from the "
        "environment and .env (see .env.example); DATABASE_URL defaults to a SQLite file.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="migrate the database, create the first admin if there is none, and serve",
        description="Bring the schema to head, create the first admin when the database has "
        "no users (INITIAL_ADMIN_EMAIL / INITIAL_ADMIN_PASSWORD, or a random password "
        "printed once), then serve the admin at /admin and the API at /api. A role in "
        "MFA_REQUIRED_ROLES (default: admin) sets up two-factor sign-in at its first login.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1",
        help="address to bind (default 127.0.0.1). Requests are answered only for the host "
        "names in ALLOWED_HOSTS (default in development: localhost, 127.0.0.1, ::1): with "
        "--host 0.0.0.0, set ALLOWED_HOSTS to the names or addresses clients use",
    )
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=_positive, default=1, help="worker processes (default 1)"
    )
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    serve.add_argument(
        "--graceful-timeout", type=_positive, default=20,
        help="seconds in-flight requests get to finish on SIGTERM (default 20)",
    )
    serve.set_defaults(handler=cmd_serve)

    migrate = sub.add_parser(
        "migrate", help="upgrade the database schema to the latest revision",
        description="Apply every pending Alembic migration (safe to run from several "
        "processes at once on PostgreSQL).",
    )
    migrate.set_defaults(handler=cmd_migrate)

    create = sub.add_parser(
        "create-user", help="create a staff account",
        description="Create a staff account. The password is asked twice on the terminal, "
        "or read from one line of standard input with --password-stdin.",
    )
    create.add_argument("email", metavar="EMAIL")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--full-name", default="", help="display name")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=cmd_create_user)

    demo = sub.add_parser(
        "demo-data", help="insert realistic demo tasks, a few demo users and projects",
        description="Insert N varied tasks (statuses, priorities, due dates, assignees, projects), "
        "five demo users who cannot log in until an admin sets their password, and five demo "
        "projects (each created once).",
    )
    demo.add_argument("--tasks", type=_positive, default=1000, help="number of tasks (default 1000)")
    demo.add_argument("--seed", type=int, default=None, help="random seed, for repeatable data")
    demo.set_defaults(handler=cmd_demo_data)

    check = sub.add_parser(
        "check", help="check the configuration and that the database answers",
        description="Print the effective configuration (no secrets) and check that the "
        "database is reachable and migrated. Exits 1 with one line on any problem.",
    )
    check.set_defaults(handler=cmd_check)

    rotate = sub.add_parser(
        "rotate-mfa-key", help="re-encrypt every authenticator secret under the first MFA key",
        description="Key rotation for the stored TOTP secrets: put the new key first in "
        "MFA_ENCRYPTION_KEYS and keep the old one after it (the old one may be the former "
        "SECRET_KEY, which encrypts them when MFA_ENCRYPTION_KEYS is empty), run this, then "
        "drop the old key. Exits 1 if a secret opens with none of the keys.",
    )
    rotate.set_defaults(handler=cmd_rotate_mfa_key)

    reset = sub.add_parser(
        "reset-second-factors", help="remove a user's second factors (a locked-out admin)",
        description="Remove the authenticator app, passkeys and recovery codes of a user and end "
        "their sessions (audited as the CLI). For the admin who lost both the phone and the "
        "recovery codes; in the admin, another admin can do the same on the user's page.",
    )
    reset.add_argument("email", metavar="EMAIL")
    reset.set_defaults(handler=cmd_reset_second_factors)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, ConfigError, DatabaseURLError, ServiceError) as exc:
        print(f"admin-app: error: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(f"admin-app: error: {_unreachable(exc, 'DATABASE_URL')}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        print(f"admin-app: error: database error: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
