"""The filter sidebar: one entry per declared filter, in SQLAdmin's filter interface.

The list template includes each entry's `template`, which reads the entry's own choices and
calls nothing that awaits (the list renders without async: admin/compat/sync_templates.py), so
`lookups` stays empty; the list's rows are selected by the generic code from the same URL
parameters (services.filtering), so `get_filtered_query` here changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.sql.expression import Select
from starlette.datastructures import URL
from starlette.requests import Request

from admin_app.admin.display import count_text
from admin_app.i18n import lazy_gettext
from admin_app.resources.spec import Boolean, Choice, DateRange, Lookup, Range, Resource
from admin_app.services.facets import choice_key
from admin_app.services.filtering import PRESET

Chip = tuple[str, URL]  # an active filter: what it says, the list's URL without it


class SidebarFilter:
    has_operator = False
    template = "sqladmin/filters/lookup_filter.html"
    parameter_name = ""
    title = ""

    async def lookups(self, request: Request, model: Any, run_query: Callable[[Select], Any]) -> list[tuple[str, str]]:
        return []

    async def get_filtered_query(self, query: Select, value: Any, model: Any) -> Select:
        return query

    def facet(self, request: Request, value: str) -> str:
        """How many rows this choice would leave ("1,204", "about 210,000"), when counts are on."""
        counts = (getattr(request.state, "facets", None) or {}).get(self.parameter_name)
        return count_text(counts.get(value)) if counts else ""


def changed_url(request: Request, drop: Iterable[str] = (), /, **add: object) -> URL:
    """The request's URL without the parameters `drop` names and with `add` (each replacing
    its name's values, appended last): what Starlette's `remove_query_params` and
    `include_query_params` give, from the query parsed once a request (a list page makes
    some 70 of these links, and each of those calls parses the whole URL again)."""
    parsed = getattr(request.state, "changed_url_parts", None)
    if parsed is None:
        url = request.url
        parsed = request.state.changed_url_parts = (str(url.replace(query="")), parse_qsl(url.query, keep_blank_values=True))
    base, pairs = parsed
    gone = {*drop, *add}
    query = urlencode([(k, v) for k, v in pairs if k not in gone] + [(k, str(v)) for k, v in add.items()])
    return URL(f"{base}?{query}" if query else base)


def chosen_rows(request: Request) -> dict[str, tuple[str, str] | None]:
    """parameter -> the related row a lookup filter chose, read with the list's rows."""
    found = getattr(request.state, "chosen_rows", None)
    if found is None:
        found = request.state.chosen_rows = {}
    return found


def _clear(request: Request, *names: str) -> URL:
    return changed_url(request, ("page", *names))


class ChoiceFilter(SidebarFilter):
    """Several of a field's values at once: each choice toggles itself in `name=a,b`."""

    template = "sqladmin/filters/choice_filter.html"

    def __init__(self, name: str, title: str, choices: Sequence[tuple[str, str]]) -> None:
        self.parameter_name, self.title, self.choices = name, title, list(choices)

    def chosen(self, request: Request) -> list[str]:
        raw = request.query_params.get(self.parameter_name, "")
        return [v for v in raw.split(",") if v and v != "__all"]

    def toggle_url(self, request: Request, value: str) -> URL:
        chosen = self.chosen(request)
        chosen = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
        if not chosen:
            return _clear(request, self.parameter_name)
        return changed_url(request, ("page",), **{self.parameter_name: ",".join(chosen)})

    def clear_url(self, request: Request) -> URL:
        return _clear(request, self.parameter_name)

    def chips(self, request: Request, model_view: Any) -> list[Chip]:
        labels = dict(self.choices)
        return [(f"{self.title}: {labels.get(v, v)}", self.toggle_url(request, v)) for v in self.chosen(request)]


class SingleFilter(SidebarFilter):
    """One value of a few (yes/no, a preset): SQLAdmin's lookup template, with facet counts."""

    template = "sqladmin/filters/single_filter.html"

    def __init__(self, name: str, title: str, choices: Sequence[tuple[str, str]]) -> None:
        self.parameter_name, self.title, self.choices = name, title, list(choices)

    def chips(self, request: Request, model_view: Any) -> list[Chip]:
        value = request.query_params.get(self.parameter_name, "")
        if not value:
            return []
        label = dict(self.choices).get(value, value)
        return [(label if self.parameter_name == PRESET else f"{self.title}: {label}",
                 _clear(request, self.parameter_name))]


class BoundsFilter(SidebarFilter):
    """Two bounds in one small form: numbers (`<name>_min`, `<name>_max`) or dates
    (`<prefix>_after`, `<prefix>_before`)."""

    template = "sqladmin/filters/bounds_filter.html"

    def __init__(self, low: str, high: str, title: str, *, dates: bool) -> None:
        self.low_param, self.high_param, self.title = low, high, title
        self.parameter_name = low
        self.input_type = "date" if dates else "number"
        self.labels = (lazy_gettext("after"), lazy_gettext("before")) if dates else (lazy_gettext("from"), lazy_gettext("to"))

    def clear_url(self, request: Request) -> URL:
        return _clear(request, self.low_param, self.high_param)

    def chips(self, request: Request, model_view: Any) -> list[Chip]:
        out = []
        for param, word in zip((self.low_param, self.high_param), self.labels, strict=True):
            value = request.query_params.get(param, "")
            if value:
                out.append((f"{self.title} {word} {value}", _clear(request, param)))
        return out


def date_range(prefix: str, title: str) -> BoundsFilter:
    return BoundsFilter(f"{prefix}_after", f"{prefix}_before", title, dates=True)


class LookupFilter(SidebarFilter):
    """A related row chosen with a search box: thousands of users are never listed."""

    template = "sqladmin/filters/relation_filter.html"

    def __init__(self, resource: Resource, relation_name: str) -> None:
        self.relation = resource.relation(relation_name)
        self.parameter_name, self.title = self.relation.param, lazy_gettext(self.relation.label)
        self.identity = resource.name

    def lookup_url(self, request: Request) -> URL:
        return request.url_for(f"admin:view-{self.identity}-lookup", relation=self.relation.name)

    def read_chosen(self, db: Any, request: Request) -> None:
        """Look up the chosen row (one primary-key read) in the list page's session, for the
        panel and its chip (`chosen`)."""
        value = request.query_params.get(self.parameter_name, "")
        if not value.isdigit():
            return
        target, shown = self.relation.target, getattr(self.relation.target, self.relation.shown)
        row = db.execute(select(target.id, shown).where(target.id == int(value))).first()
        chosen_rows(request)[self.parameter_name] = (str(row[0]), str(row[1])) if row else None

    def chosen(self, request: Request) -> tuple[str, str] | None:
        """The chosen row's (id, label), as `read_chosen` found it; None if none is chosen or
        no such row exists."""
        return chosen_rows(request).get(self.parameter_name)

    def clear_url(self, request: Request) -> URL:
        return _clear(request, self.parameter_name)

    def chips(self, request: Request, model_view: Any) -> list[Chip]:
        value = request.query_params.get(self.parameter_name, "")
        if not value:
            return []
        chosen = self.chosen(request)
        return [(f"{self.title}: {chosen[1] if chosen else value}", self.clear_url(request))]


def active_filters(request: Request, model_view: Any) -> list[Chip]:
    """The list's search and filters as (label, URL without it): the chips above the list.

    Filters of SQLAdmin's own (the audit log's) have no `chips`: their value and operator."""
    chips: list[Chip] = []
    search = request.query_params.get("search", "")
    if search:
        chips.append((f"Search: {search}", _clear(request, "search")))
    for entry in model_view.get_filters():
        if hasattr(entry, "chips"):
            chips.extend(entry.chips(request, model_view))
            continue
        name = entry.parameter_name
        value = request.query_params.get(name, "")
        if value:
            operator = request.query_params.get(f"{name}_op", "").replace("_", " ")
            chips.append((f"{entry.title} {operator}: {value}" if operator else f"{entry.title}: {value}",
                          _clear(request, name, f"{name}_op")))
    return chips


def clear_all_url(request: Request, model_view: Any) -> URL:
    """The list without its search and filters (sort and page size kept)."""
    names = ["search", PRESET]
    for entry in model_view.get_filters():
        names += [entry.parameter_name, f"{entry.parameter_name}_op",
                  *(getattr(entry, a) for a in ("low_param", "high_param") if hasattr(entry, a))]
    return _clear(request, *names)


def choices_of(resource: Resource, name: str) -> list[tuple[str, str]]:
    """A field's choices as (value in the URL and forms, label), in declared order."""
    found = resource.field(name)
    return [(choice_key(v), label) for v, label in (getattr(found, "choices", None) or {}).items()]


def sidebar(resource: Resource) -> list[SidebarFilter]:
    """The sidebar entries of a resource's declared presets and filters, in declared order;
    their words translated each time they are shown."""
    entries: list[SidebarFilter] = []
    if resource.presets:
        presets = [(p.name, lazy_gettext(p.label)) for p in resource.presets]
        entries.append(SingleFilter(PRESET, lazy_gettext("Show"), presets))
    for spec in resource.filters:
        if isinstance(spec, Lookup):
            entries.append(LookupFilter(resource, spec.relation))
            continue
        title = lazy_gettext(resource.label_of(spec.field))
        declared = [(key, lazy_gettext(label)) for key, label in choices_of(resource, spec.field)]
        if isinstance(spec, Choice):
            entries.append(ChoiceFilter(spec.field, title, declared))
        elif isinstance(spec, Boolean):
            choices = declared or [("true", lazy_gettext("Yes")), ("false", lazy_gettext("No"))]
            entries.append(SingleFilter(spec.field, title, choices))
        elif isinstance(spec, Range):
            entries.append(BoundsFilter(f"{spec.field}_min", f"{spec.field}_max", title, dates=False))
        elif isinstance(spec, DateRange):
            entries.append(date_range(spec.prefix, title))
    return entries
