"""`admin-app migrate`, `create-user`, `demo-data` and `check`."""

from __future__ import annotations

import argparse
import getpass
import sys

from admin_app.cli.common import CommandError, command_settings, database_label, engine_for, migrate_to_head


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = command_settings()
    engine = engine_for(settings)
    try:
        revision = migrate_to_head(engine)
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
    settings = command_settings()
    password = _read_password(args)
    engine = engine_for(settings)
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

    settings = command_settings()
    engine = engine_for(settings)
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


def cmd_check(_args: argparse.Namespace) -> int:
    from admin_app.migrate import current_revision, head_revision

    settings = command_settings()
    print(f"Environment:  {settings.app_env.value}")
    print(f"Database:     {database_label(settings)}")
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
    engine = engine_for(settings)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    print("Reachable:    yes")
    head = head_revision()
    if revision != head:
        # Not OK: the app would migrate on start, but a deploy check should say so first.
        print(f"Schema:       at {revision or 'nothing (never migrated)'}, head is {head}")
        print("Database not at head: run `admin-app migrate`.", file=sys.stderr)
        return 1
    print(f"Schema:       up to date (revision {revision})")
    print("Configuration OK.")
    return 0
