"""What a table declaration is made of: fields, filters, bulk actions, import/export, API.

A declaration says what is specific to one table and nothing else; the generic builders
(admin views, API routers, the write path) read it. Names are those of the table model's
attributes; `Resource.__post_init__` refuses a name the model does not have, so a typo is
an error at start-up, not a blank column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import inspect


@dataclass(frozen=True)
class Field:
    """A column staff see: its label, and the labels of its values when it has a fixed set."""

    name: str
    label: str
    choices: Mapping[Any, str] | None = None  # stored value -> label, in display order
    secret: bool = False  # write-only input that is no column (a password): never shown
    help: str = ""  # shown under the form field
    badges: Mapping[Any, str] | None = None  # stored value -> colour (admin/display.py): a badge


@dataclass(frozen=True)
class Relation:
    """A foreign key shown as the row it points to (a task's assignee, by email)."""

    name: str  # the relationship attribute: "assignee"
    label: str
    key: str  # the foreign key column: "assignee_id"
    target: type  # the table model it points to
    shown: str  # the target's unique column staff read, and imports match on: "email"
    search: tuple[str, ...] = ()  # target columns the lookup searches as staff type
    orphaned: str | None = None  # what deleting the target does to rows here: "unassigned"
    admin_param: str | None = None  # the admin URL parameter; defaults to `name`

    @property
    def param(self) -> str:
        return self.admin_param or self.name


# --- filters: each kind knows its parameters and its SQL (resources/filters.py) --------------

@dataclass(frozen=True)
class Choice:
    """One or several of a field's choices: `status=pending,done` (admin), `status=` repeated (API)."""

    field: str


@dataclass(frozen=True)
class Range:
    """A number between `<field>_min` and `<field>_max`, both included."""

    field: str


@dataclass(frozen=True)
class DateRange:
    """Strictly after `<prefix>_after` and before `<prefix>_before`."""

    field: str
    prefix: str


@dataclass(frozen=True)
class Boolean:
    """Yes or no: `<field>=true`."""

    field: str


@dataclass(frozen=True)
class Lookup:
    """A related row chosen with a search box (thousands are never listed)."""

    relation: str


@dataclass(frozen=True)
class Preset:
    """A named set of filter values ("overdue"); `values` may depend on today's date."""

    name: str
    label: str
    values: Mapping[str, Any] | Callable[[date], Mapping[str, Any]]

    def resolve(self, today: date) -> Mapping[str, Any]:
        return self.values(today) if callable(self.values) else self.values


Filter = Choice | Range | DateRange | Boolean | Lookup


# --- bulk actions ----------------------------------------------------------------------------

ASK = object()  # SetField.value: the confirmation page asks for it


@dataclass(frozen=True)
class SetField:
    """Set one field of the chosen rows: to `value`, or to what the confirmation asks."""

    slug: str  # the URL: /admin/<name>/action/<slug>
    title: str  # "Mark as done": the menu entry and the page title
    field: str
    value: Any = ASK
    done: str = "changed"  # "186 tasks marked done"; may use {value}
    unchanged: str = "unchanged"  # "97 already done"
    danger: bool = False
    in_detail: bool = False  # offered on a row's details page too
    warning: str = ""  # said on the confirmation page, above the button


@dataclass(frozen=True)
class RunAction:
    """A table's own action: `run(ctx, ids) -> rows affected` (ending sessions, say)."""

    slug: str
    title: str
    run: Callable[..., int]
    done: str
    permission: str = "edit"
    danger: bool = False
    warning: str = ""


@dataclass(frozen=True)
class DeleteRows:
    """Delete the chosen rows in one statement, after saying what else that changes."""

    slug: str
    title: str = "Delete"
    done: str = "deleted"
    danger: bool = True
    warning: str = "Undo, offered once it is done (and under Change sets), brings them back."


Action = SetField | RunAction | DeleteRows


def set_each_choice(
    field: str, choices: Mapping[Any, str], *, slug: str, title: str, done: str, unchanged: str
) -> tuple[SetField, ...]:
    """One action per choice: `slug`, `title`... may use {slug} and {label} ("Mark as {label}")."""
    actions = []
    for value, label in choices.items():
        stored = getattr(value, "value", value)
        words = {"slug": str(stored).replace("_", "-"), "label": label.lower()}
        actions.append(SetField(
            slug.format(**words), title.format(**words), field, stored,
            done=done.format(**words), unchanged=unchanged.format(**words),
        ))
    return tuple(actions)


# --- the declaration -----------------------------------------------------------------------

@dataclass(frozen=True)
class Schemas:
    """The table's pydantic models: validation for every channel, the API's shapes."""

    create: type
    update: type
    public: type
    replace: type | None = None  # a PUT body; no PUT without it


@dataclass(frozen=True)
class Api:
    """How the table is exposed under /api."""

    prefix: str  # "/api/tasks"
    tag: str  # "tasks": the OpenAPI tag and the operation ids' plural noun
    bulk: bool = True
    notes: Mapping[str, str] = field(default_factory=dict)  # per operation ("update"), for the docs


class Rules:
    """A table's own rules, called by the generic write path. The defaults do nothing.

    `ctx` is a services.records.WriteContext (session, actor, passwords, current session).
    """

    def prepare_create(self, ctx: Any, values: dict[str, Any]) -> dict[str, Any]:
        """The column values to insert, from validated input (hash a password, say)."""
        return values

    def prepare_update(self, ctx: Any, row: Any, values: dict[str, Any]) -> dict[str, Any]:
        """The column values to write, from validated changes; may refuse (raise)."""
        return values

    def derived(self, values: Mapping[str, Any], current: Any, now: Any) -> dict[str, Any]:
        """Fields that follow others. `current` reads the row: an object, or the table's columns."""
        return {}

    def after_write(self, ctx: Any, row: Any, values: Mapping[str, Any]) -> None:
        """Side effects of a saved row (end a user's sessions)."""

    def check_bulk(self, ctx: Any, condition: Any, values: Mapping[str, Any]) -> None:
        """Refuse a set-based change before it runs."""

    def after_bulk(self, ctx: Any, ids: list[int], values: Mapping[str, Any]) -> None:
        """Side effects for the rows a set-based change wrote."""

    def check_delete(self, ctx: Any, condition: Any) -> None:
        """Refuse deleting the rows `condition` selects (the last admin)."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: derived parts are cached
class Resource:
    model: type
    name: str  # URL identity, permission resource and audit entity: "task"
    label: str  # "Task"
    plural: str  # "Tasks"
    schemas: Schemas
    fields: tuple[Field | Relation, ...]
    list_columns: tuple[str, ...]
    sortable: tuple[str, ...] = ("id",)
    default_sort: str = "-id"  # the admin list's; the API's is "id"
    searchable: tuple[str, ...] = ()
    # SQLite: search through an FTS5 trigram table `<table>_search` over `searchable`, which a
    # migration creates and triggers keep in step (PostgreSQL: trigram GIN indexes instead).
    search_index: bool = False
    filters: tuple[Filter, ...] = ()
    presets: tuple[Preset, ...] = ()
    list_editable: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    import_columns: tuple[str, ...] = ()
    import_key: str | None = None  # a row whose key exists is updated, the others created
    export_columns: tuple[str, ...] = ()
    detail_columns: tuple[str, ...] = ()  # default: every field
    form_columns: tuple[str, ...] = ()  # default: what the create schema takes
    permission: str = ""  # default: `name`
    api: Api | None = None
    rules: Rules = field(default_factory=Rules)
    icon: str = "fa-solid fa-table"
    page_size: int = 25
    admin_options: Mapping[str, Any] = field(default_factory=dict)  # ModelView attributes besides

    def __post_init__(self) -> None:
        if not self.permission:
            object.__setattr__(self, "permission", self.name)
        columns = {c.key for c in inspect(self.model).column_attrs}
        names = {f.name for f in self.fields}
        for f in self.fields:
            if getattr(f, "secret", False):
                continue
            wanted = [f.key] if isinstance(f, Relation) else [f.name]
            missing = [n for n in wanted if n not in columns]
            if missing or (isinstance(f, Relation) and f.name not in inspect(self.model).relationships):
                raise ValueError(f"{self.name}: {f.name} is not a column or relation of {self.model.__name__}")
        used = {*self.list_columns, *self.sortable, *self.searchable, *self.list_editable,
                *self.import_columns, *self.export_columns, *self.detail_columns}
        used |= {getattr(f, "field", None) or getattr(f, "relation", "") for f in self.filters}
        used |= {a.field for a in self.actions if isinstance(a, SetField)}
        unknown = sorted(n for n in used if n not in names)
        if unknown:
            raise ValueError(f"{self.name}: not declared in fields: {', '.join(unknown)}")

    # --- reading the declaration ------------------------------------------------------------
    def field(self, name: str) -> Field | Relation:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def relations(self) -> tuple[Relation, ...]:
        return tuple(f for f in self.fields if isinstance(f, Relation))

    def relation(self, name: str) -> Relation:
        found = self.field(name)
        if not isinstance(found, Relation):
            raise KeyError(name)
        return found

    def column(self, name: str) -> Any:
        """The model attribute a field reads: the column, or a relation's foreign key."""
        found = self.field(name)
        return getattr(self.model, found.key if isinstance(found, Relation) else found.name)

    def label_of(self, name: str) -> str:
        try:
            return self.field(name).label
        except KeyError:
            return name.replace("_", " ").capitalize()

    @property
    def labels(self) -> dict[str, str]:
        """How messages name each field and foreign key."""
        out = {f.name: f.label for f in self.fields}
        out.update({r.key: r.label for r in self.relations})
        return out

    @property
    def versioned(self) -> bool:
        return "version" in {c.key for c in inspect(self.model).column_attrs}
