"""Create and edit forms from a declaration, saved through the generic write path.

SQLAdmin scaffolds the WTForms form from the model (types, lengths, required); the
declaration adds choices shown by label, related rows searched as staff type, the version the
form was opened with (hidden), and write-only fields such as a password. A save is validated
by the table's Create/Update model, the API's, and its every error is worded for the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel
from sqladmin import Flash, ModelView
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from wtforms import Form, HiddenField, PasswordField, SelectField, validators

import admin_app.admin.conflicts as conflicts
from admin_app.admin.messages import message_fields
from admin_app.errors import InvalidInput, NotFound, ServiceError
from admin_app.i18n import N_, lazy_gettext
from admin_app.i18n import gettext as _
from admin_app.resources.spec import Field, Relation, Resource
from admin_app.services import records
from models.common import jsonable, parse_db_id


def row_id(pk: Any) -> int:
    """A row id from the URL; anything else names no row."""
    found = parse_db_id(pk)
    if found is None:
        raise NotFound("No such row.")
    return found


def form_options(resource: Resource) -> dict[str, Any]:
    """The ModelView attributes of the declared form: columns, choices, lookups, hidden version."""
    columns = resource.form_columns or (
        *(n for n in resource.schemas.create.model_fields if n not in {r.key for r in resource.relations}),
        *(r.name for r in resource.relations if r.key in resource.schemas.create.model_fields),
        *(("version",) if resource.versioned else ()),
    )
    secret = [n for n in columns if getattr(resource.field(n), "secret", False)]
    overrides: dict[str, Any] = {}
    args: dict[str, Any] = {}
    ajax: dict[str, Any] = {}
    for name in columns:
        found = resource.field(name)
        if isinstance(found, Relation):
            ajax[name] = {"fields": found.search or (found.shown,), "order_by": found.shown, "limit": 20}
        elif isinstance(found, Field) and found.choices and not all(isinstance(v, bool) for v in found.choices):
            overrides[name] = SelectField
            keys = list(found.choices)
            coerce = int if all(isinstance(k, int) for k in keys) else str
            # The labels translated each time the form is shown (the form class is made once).
            args[name] = {"choices": [(jsonable(k), lazy_gettext(label)) for k, label in found.choices.items()],
                          "coerce": coerce}
    if "version" in columns:
        overrides["version"] = HiddenField
    return {
        "form_columns": [n for n in columns if n not in secret],
        "form_overrides": overrides, "form_args": args, "form_ajax_refs": ajax,
        "secret_fields": secret,
    }


def _related_id(value: Any) -> int | None:
    # SQLAdmin's ajax select gives the chosen id as text; a plain select gives the row.
    if value in (None, "", "__None"):
        return None
    if hasattr(value, "id"):
        return value.id
    found = parse_db_id(value)
    if found is None:
        raise InvalidInput(N_("not a valid choice"))  # worded in the form's language where shown
    return found


class ResourceForms(ModelView):
    """Create and edit for a ResourceView (mixed in)."""

    resource: ClassVar[Resource]
    secret_fields: ClassVar[list[str]] = []
    _scaffolded: ClassVar[type[Form] | None] = None

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        """SQLAdmin's form plus the write-only fields; built once (SQLAdmin builds it per request)."""
        cls = type(self)
        if cls._scaffolded is None:
            form = await super().scaffold_form(rules)
            for name in self.secret_fields:
                found = self.resource.field(name)
                setattr(form, name, PasswordField(found.label, [validators.Optional()], description=found.help))
            cls._scaffolded = form
        return cls._scaffolded

    def form_payload(self, data: dict[str, Any], schema: type) -> dict[str, Any]:
        """The form's data as the schema names it: related rows by id, empty nullable fields null."""
        payload: dict[str, Any] = {}
        nullable = {c.key for c in self.model.__table__.columns if c.nullable}
        for name, value in data.items():
            if name == "version":
                continue
            try:
                found = self.resource.field(name)
            except KeyError:
                continue
            if isinstance(found, Relation):
                try:
                    payload[found.key] = _related_id(value)
                except InvalidInput as exc:
                    raise InvalidInput(N_("%(field)s: %(why)s"), field=found.key, why=exc.words) from None
            elif value == "" and name in nullable:
                payload[name] = None
            else:
                payload[name] = value
        return {k: v for k, v in payload.items() if k in schema.model_fields}

    async def insert_model(self, request: Request, data: dict) -> Any:
        schema = self.resource.schemas.create

        def work() -> Any:
            payload = self.form_payload(data, schema)
            with self.writing(request) as ctx:  # type: ignore[attr-defined]
                return records.create(ctx, self.resource, schema.model_validate(payload))

        return self.saved(request, await self.saving(request, work), N_("created"))

    async def update_model(self, request: Request, pk: str, data: dict) -> Any:
        """Save the form; over a newer version, nothing is saved and the form shows what differs
        (conflicts.describe, in `request.state.conflict`), unless it was sent from that screen."""
        schema, form = self.resource.schemas.update, await request.form()
        versioned = "version" in self._form_prop_names

        def work() -> Any:
            payload = self.form_payload(data, schema)
            with self.writing(request) as ctx:  # type: ignore[attr-defined]
                row = records.get(ctx.db, self.resource, row_id(pk))
                if versioned:
                    chosen = conflicts.resolve(self.resource, row, form, payload)
                    payload["version"] = chosen if chosen is not None else _form_version(data)
                    if row.version != payload["version"]:
                        request.state.conflict = conflicts.describe(ctx.db, self.resource, row, payload["version"], payload)
                return records.update(ctx, self.resource, row, schema.model_validate(payload))

        return self.saved(request, await self.saving(request, work), N_("saved"))

    async def saving(self, request: Request, work: Callable[[], Any]) -> Any:
        """Run the save; a refusal naming fields leaves them in `request.state.field_errors`
        (field -> message), which the form shows under each field, tied to it (_macros.html)."""
        try:
            return await run_in_threadpool(work)
        except ServiceError as exc:
            request.state.field_errors = message_fields(exc, self.resource.labels)
            raise

    def saved(self, request: Request, row: Any, done: str) -> Any:
        """Every save says what it did (bulk actions and deletes flash theirs in admin/bulk.py)."""
        Flash.success(request, _("{row} {done}.").format(row=row_label(self.resource, row), done=_(done)))
        return row


def row_label(resource: Resource, row: Any) -> str:
    """How a message names one row: its own `__str__` ("#12 Write the report"), else its id."""
    if type(row).__str__ in (BaseModel.__str__, object.__str__):  # the default prints every field
        return f"{_(resource.label)} {row.id}"
    return f"{_(resource.label)} “{row}”"


def _form_version(data: dict) -> int:
    """The version an edit form was opened with; a form without one cannot be checked."""
    value = data.get("version")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    raise InvalidInput(N_("version: missing; reload the page and edit again"))
