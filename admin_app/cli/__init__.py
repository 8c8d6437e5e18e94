"""The `admin-app` command: serve, migrate, create-user, demo-data, check, and the
second-factor chores (rotate-mfa-key, reset-second-factors)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from admin_app.cli.commands import cmd_check, cmd_create_user, cmd_demo_data, cmd_migrate
from admin_app.cli.common import CommandError, unreachable
from admin_app.cli.mfa import cmd_reset_second_factors, cmd_rotate_mfa_key
from admin_app.cli.serve import cmd_serve
from admin_app.config import ConfigError
from admin_app.db import DatabaseURLError
from admin_app.errors import ServiceError
from models import Role


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
        print(f"admin-app: error: {unreachable(exc, 'DATABASE_URL')}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        print(f"admin-app: error: database error: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
