"""Proof 2: a table declared in this module only gets every feature, through the real app.

List, sort, search and each filter kind; the estimate on PostgreSQL; bulk actions on selected
and on all matching rows with their audit entries; edit in the list; CSV import with a bad
row reported, and export (COPY byte-equal to the Python path); the API's CRUD with versions
and cursor pages; a viewer refused every write. Nothing here is Gadget-specific code.
"""

from __future__ import annotations

import csv
import html
import inspect
import io
import re
from contextlib import contextmanager
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from admin_app.admin.export import stream_rows
from admin_app.admin.export_copy import CopyCSV, copy_select
from admin_app.admin.export_format import csv_chunks, export_statement
from admin_app.admin.views import export_columns
from admin_app.db import build_engine
from admin_app.main import create_app
from admin_app.resources import Registry, default_resources
from admin_app.resources.spec import (
    Api,
    Boolean,
    Choice,
    DateRange,
    DeleteRows,
    Field,
    Lookup,
    Preset,
    Range,
    Relation,
    Resource,
    Schemas,
    SetField,
)
from admin_app.services import records
from admin_app.services.actor import CLI_ACTOR
from admin_app.services.listing import Listing, listing_of
from admin_app.services.unit import unit_of_work
from auth.tokens import create_token
from models import AuditEntry, Role, User
from tests.admin.conftest import ORIGIN, import_csv, listed_ids, shown_count
from tests.admin.gadgets import Gadget, GadgetCreate, GadgetPublic, GadgetsBase, GadgetUpdate, Kind
from tests.conftest import make_settings, migrated

# --- the declaration (what a new table needs besides its model and migration) ----------------
GADGETS = Resource(
    Gadget, "gadget", "Gadget", "Gadgets", permission="task",  # roles as for tasks
    schemas=Schemas(GadgetCreate, GadgetUpdate, GadgetPublic),
    fields=(
        Field("id", "ID"),
        Field("name", "Name"),
        Field("kind", "Kind", choices={Kind.tool: "Tool", Kind.toy: "Toy", Kind.spare: "Spare part"}),
        Field("weight", "Weight"),
        Field("in_stock", "In stock", choices={True: "Yes", False: "No"}),
        Field("delivered_on", "Delivered on"),
        Relation("keeper", "Keeper", "keeper_id", User, "email", ("email", "full_name")),
        Field("created_at", "Created at"),
        Field("updated_at", "Updated at"),
        Field("version", "Version"),
    ),
    list_columns=("id", "name", "kind", "weight", "in_stock", "delivered_on", "keeper"),
    sortable=("id", "name", "weight", "delivered_on", "keeper"),
    searchable=("name",),
    filters=(Choice("kind"), Range("weight"), Boolean("in_stock"), DateRange("delivered_on", "delivered"),
             Lookup("keeper")),
    presets=(Preset("heavy", "Heavy (100 or more)", {"weight_min": 100}),),
    list_editable=("kind", "weight", "in_stock", "keeper"),
    actions=(
        SetField("set-kind", "Set kind", "kind", done="set to {value}", unchanged="already of that kind"),
        SetField("restock", "Restock", "in_stock", True, done="restocked", unchanged="already in stock"),
        DeleteRows("delete-gadgets"),
    ),
    import_columns=("name", "kind", "weight", "in_stock", "delivered_on", "keeper"),
    export_columns=("id", "name", "kind", "weight", "in_stock", "delivered_on", "keeper"),
    api=Api("/api/gadgets", "gadgets"),
)
# -----------------------------------------------------------------------------------------------

ROWS = [  # name, kind, weight, in_stock, delivered_on, kept by the keeper
    ("Drill", "tool", 3, True, date(2026, 1, 10), True),
    ("Hammer", "tool", 2, False, date(2026, 2, 10), False),
    ("Robot", "toy", 150, True, None, True),
    ("Spring", "spare", 0, True, date(2026, 3, 10), False),
    ("Anvil", "tool", 500, False, date(2026, 4, 10), False),
]


@contextmanager
def _app(url: str):  # noqa: ANN202
    """The app with the gadget table, which lives for the test only (the migrated databases
    are shared: their schema must stay the migrations')."""
    engine = build_engine(make_settings(url))
    GadgetsBase.metadata.create_all(engine)
    try:
        yield create_app(make_settings(url), resources=Registry([*default_resources(), GADGETS]))
    finally:
        GadgetsBase.metadata.drop_all(engine)
        engine.dispose()


@pytest.fixture
def app(db_url):  # noqa: ANN001, ANN201
    with _app(db_url) as app:
        yield app


@pytest.fixture
def gadgets(app, make_user):  # noqa: ANN001, ANN201
    """The five ROWS, created through the write path; (ids by name, keeper)."""
    keeper = make_user("keeper@example.com", Role.editor, full_name="Kim Keeper")
    with unit_of_work(app.state.session_factory, CLI_ACTOR) as ctx:
        made = {
            name: records.create(ctx, GADGETS, GadgetCreate(
                name=name, kind=kind, weight=weight, in_stock=stock, delivered_on=day,
                keeper_id=keeper.id if kept else None,
            )).id
            for name, kind, weight, stock, day, kept in ROWS
        }
    return made, keeper


def bearer(app, user_id: int) -> dict[str, str]:  # noqa: ANN001
    with app.state.session_factory() as db:
        _token, raw = create_token(db, user_id, "tests")
        db.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_the_declaration_is_short() -> None:
    source = inspect.getsource(inspect.getmodule(test_the_declaration_is_short))
    start = source.index("GADGETS = Resource(")
    lines = source[start:source.index("\n)\n", start)].count("\n") + 1
    assert lines <= 40, lines


def test_list_sort_search_and_each_filter_kind(editor, gadgets) -> None:  # noqa: ANN001
    ids, keeper = gadgets

    def shown(query: str = "") -> list[int]:
        response = editor.get(f"/admin/gadget/list?{query}")
        assert response.status_code == 200, response.text
        return listed_ids(response.text)

    page = editor.get("/admin/gadget/list").text
    assert "Spare part" in page and "keeper@example.com" in page  # a choice by label, a row by email
    assert shown() == sorted(ids.values(), reverse=True)  # newest first
    assert shown("sortBy=weight&sort=desc") == [ids[n] for n in ("Anvil", "Robot", "Drill", "Hammer", "Spring")]
    assert shown("sortBy=keeper&sort=asc")[:2] == sorted([ids["Drill"], ids["Robot"]])  # joined, NULLs last
    assert shown("search=ri") == sorted([ids["Drill"], ids["Spring"]], reverse=True)
    assert sorted(shown("kind=tool,toy")) == sorted(ids[n] for n in ("Drill", "Hammer", "Robot", "Anvil"))
    assert sorted(shown("weight_min=2&weight_max=150")) == sorted(ids[n] for n in ("Drill", "Hammer", "Robot"))
    assert sorted(shown("in_stock=false")) == sorted([ids["Hammer"], ids["Anvil"]])
    assert shown("delivered_after=2026-02-01&delivered_before=2026-04-01") == [ids["Spring"], ids["Hammer"]]
    assert sorted(shown(f"keeper={keeper.id}")) == sorted([ids["Drill"], ids["Robot"]])
    assert sorted(shown("preset=heavy")) == sorted([ids["Robot"], ids["Anvil"]])
    assert shown_count(editor.get("/admin/gadget/list?kind=tool&in_stock=true").text) == "1"
    refused = editor.get("/admin/gadget/list?weight_min=-5")
    assert refused.status_code == 400 and "Weight from: must be at least 0" in html.unescape(refused.text)


def test_the_column_chooser(editor, gadgets) -> None:  # noqa: ANN001
    """Its columns come from the declaration: the list's, then the other fields."""
    chooser = editor.get("/admin/gadget/columns?kind=tool").text
    offered = re.findall(r'name="order" value="(\w+)"', chooser)
    assert offered == [*GADGETS.list_columns, "created_at", "updated_at", "version"]
    saved = editor.post("/admin/gadget/columns?kind=tool", data={"order": offered, "show": ["name", "version"],
                                                                   "save": "1"}, headers=ORIGIN)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/admin/gadget/list?kind=tool")
    page = editor.get("/admin/gadget/list?kind=tool").text
    assert re.findall(r'data-column="(\w+)"', page) == ["name", "version"]


def test_the_api_has_the_same_filters_sorts_and_cursor_pages(app, editor, gadgets) -> None:  # noqa: ANN001
    ids, keeper = gadgets
    client, headers = TestClient(app), bearer(app, editor.user.id)

    def names(**params) -> list[str]:  # noqa: ANN003
        response = client.get("/api/gadgets", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [g["name"] for g in response.json()["items"]]

    assert names(kind=["tool", "toy"], sort="-weight") == ["Anvil", "Robot", "Drill", "Hammer"]
    assert names(weight_min=100) == names(preset="heavy") == ["Robot", "Anvil"]
    assert names(in_stock=False, q="mm") == ["Hammer"]
    assert names(keeper_id=keeper.id, delivered_after="2026-01-01") == ["Drill"]
    pages, cursor = [], None
    while True:
        body = client.get("/api/gadgets", params={"limit": 2, "sort": "name", **({"cursor": cursor} if cursor else {})},
                          headers=headers).json()
        pages.append([g["name"] for g in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [["Anvil", "Drill"], ["Hammer", "Robot"], ["Spring"]]
    assert client.get("/api/gadgets", params={"kind": "weapon"}, headers=headers).status_code == 422


def test_api_crud_with_versions(app, editor, gadgets) -> None:  # noqa: ANN001
    _ids, keeper = gadgets
    client, headers = TestClient(app), bearer(app, editor.user.id)
    created = client.post("/api/gadgets", json={"name": "Lamp", "weight": 4, "keeper_id": keeper.id}, headers=headers)
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    url = created.headers["location"]
    assert url.endswith(f"/api/gadgets/{created.json()['id']}")
    assert client.patch(url, json={"weight": 5}, headers=headers).status_code == 428  # no version
    changed = client.patch(url, json={"weight": 5}, headers={**headers, "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.patch(url, json={"weight": 6}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.patch(url, json={"weight": 6, "version": 1}, headers=headers).status_code == 409
    assert client.patch(url, json={"keeper_id": 999999, "version": 2}, headers=headers).status_code == 422
    assert client.patch(url, json={"name": None, "version": 2}, headers=headers).status_code == 422
    assert client.get(url, headers=headers).json()["weight"] == 5
    assert client.delete(url, headers={**headers, "If-Match": '"1"'}).status_code == 412
    assert client.delete(url, headers={**headers, "If-Match": '"2"'}).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_bulk_on_selected_and_all_matching_rows_with_audit_entries(app, editor, gadgets) -> None:  # noqa: ANN001
    ids, _keeper = gadgets
    confirm = editor.get(f"/admin/gadget/action/set-kind?pks={ids['Drill']},{ids['Spring']}&kind=tool")
    assert "the 2 selected gadgets" in confirm.text and "all 3 gadgets matching" in confirm.text
    assert ">Spare part</option>" in confirm.text  # the choices by label
    done = editor.post(f"/admin/gadget/action/set-kind?pks={ids['Drill']},{ids['Spring']}",
                       data={"pks": f"{ids['Drill']},{ids['Spring']}", "scope": "selected", "value": "spare"},
                       headers=ORIGIN)
    assert done.status_code == 303
    assert "1 gadget set to Spare part, 1 already of that kind" in html.unescape(editor.get(done.headers["location"]).text)
    everything = editor.post("/admin/gadget/action/restock?in_stock=false", data={"scope": "all"}, headers=ORIGIN)
    assert "2 gadgets restocked" in html.unescape(editor.get(everything.headers["location"]).text)
    with app.state.session_factory() as db:
        rows = {g.name: g for g in db.execute(select(Gadget)).scalars()}
        entries = db.execute(select(AuditEntry).where(AuditEntry.entity == "gadget", AuditEntry.action == "update")
                             .order_by(AuditEntry.id)).scalars().all()
    assert rows["Drill"].kind == "spare" and rows["Drill"].version == 2 and rows["Spring"].version == 1
    assert rows["Hammer"].in_stock and rows["Anvil"].in_stock
    assert [(int(e.entity_id), e.changes) for e in entries] == [
        (ids["Drill"], {"kind": ["tool", "spare"]}),
        (ids["Hammer"], {"in_stock": [False, True]}), (ids["Anvil"], {"in_stock": [False, True]}),
    ]
    assert {e.actor_label for e in entries} == {editor.user.email}


def test_edit_in_the_list(app, editor, gadgets) -> None:  # noqa: ANN001
    ids, keeper = gadgets
    page = editor.get("/admin/gadget/list-edit?kind=toy")
    assert page.status_code == 200 and f'name="weight-{ids["Robot"]}"' in page.text
    robot = ids["Robot"]
    form = {"row": str(robot), f"version-{robot}": "1", f"kind-{robot}": "spare", f"weight-{robot}": "151",
            f"in_stock-{robot}": "true", f"keeper-{robot}": ""}
    assert editor.post("/admin/gadget/list-edit?kind=toy", data=form, headers=ORIGIN).status_code == 303
    bad = editor.post("/admin/gadget/list-edit", data={**form, f"version-{robot}": "2", f"weight-{robot}": "-1"},
                      headers=ORIGIN)
    assert bad.status_code == 400 and "Weight: must be at least 0" in html.unescape(bad.text)
    with app.state.session_factory() as db:
        robot_row = db.get(Gadget, robot)
    assert (robot_row.kind, robot_row.weight, robot_row.keeper_id, robot_row.version) == ("spare", 151, None, 2)


def test_csv_import_reports_a_bad_row_then_imports_and_exports(app, editor, gadgets) -> None:  # noqa: ANN001
    _ids, keeper = gadgets
    content = ("Name,Kind,Weight,In stock,Delivered on,Keeper\n"
               f"Saw,Tool,7,true,2026-05-01,{keeper.email}\n"
               "Kite,toy,-3,false,,nobody@example.com\n")
    refused = import_csv(editor, "/admin/gadget/import-csv", content)
    page = html.unescape(refused.text)
    assert refused.status_code == 400 and "1 of 2 rows have problems" in page
    assert "No user with the email nobody@example.com." in page and "must be at least 0" in page
    fixed = content.replace("-3", "3").replace("nobody@example.com", "")
    assert import_csv(editor, "/admin/gadget/import-csv", fixed).status_code == 303
    exported = list(csv.reader(io.StringIO(editor.get("/admin/gadget/export/csv?sortBy=name&sort=asc").text)))
    assert exported[0] == ["ID", "Name", "Kind", "Weight", "In stock", "Delivered on", "Keeper", "Version"]
    saw = next(r for r in exported if r[1] == "Saw")
    assert saw[2:] == ["tool", "7", "True", "2026-05-01", keeper.email, "1"]
    assert [r[1] for r in exported[1:]] == sorted(r[1] for r in exported[1:])


def test_a_viewer_is_refused_every_write(app, viewer, gadgets) -> None:  # noqa: ANN001
    ids, _keeper = gadgets
    one = ids["Drill"]
    assert viewer.get("/admin/gadget/list").status_code == 200  # reading is allowed
    for method, path, data in [
        ("post", "/admin/gadget/create", {"name": "x"}),
        ("post", f"/admin/gadget/edit/{one}", {"name": "x"}),
        ("post", "/admin/gadget/action/restock", {"pks": str(one), "scope": "selected"}),
        ("post", "/admin/gadget/action/delete-gadgets", {"pks": str(one), "scope": "selected"}),
        ("post", "/admin/gadget/list-edit", {"row": str(one)}),
        ("post", "/admin/gadget/import-csv", {}),
    ]:
        assert getattr(viewer, method)(path, data=data, headers=ORIGIN).status_code == 403, path
    client, headers = TestClient(app), bearer(app, viewer.user.id)
    assert client.get("/api/gadgets", headers=headers).status_code == 200
    for method, path, body in [
        ("post", "/api/gadgets", {"name": "x"}),
        ("patch", f"/api/gadgets/{one}", {"weight": 1, "version": 1}),
        ("delete", f"/api/gadgets/{one}", None),
        ("post", "/api/gadgets/bulk", {"ids": [one], "set": {"weight": 1}}),
    ]:
        assert client.request(method.upper(), path, json=body, headers=headers).status_code == 403, path
    with app.state.session_factory() as db:
        assert db.get(Gadget, one).version == 1


# --- PostgreSQL: the estimated count, and COPY ---------------------------------------------------

@pytest.fixture
def pg_app(pg_databases):  # noqa: ANN001, ANN201
    with _app(migrated(pg_databases.create("gadgets"))) as app:
        yield app


def test_the_estimate_path_on_postgresql(pg_app, monkeypatch) -> None:  # noqa: ANN001
    with unit_of_work(pg_app.state.session_factory, CLI_ACTOR) as ctx:
        for n in range(300):
            records.create(ctx, GADGETS, GadgetCreate(name=f"g{n}", weight=n % 50))
        ctx.db.execute(text("ANALYZE gadget"))
    monkeypatch.setattr(Listing, "exact_count_below", 200)  # "big" for this test
    monkeypatch.setattr(Listing, "exact_count_limit", 50)
    with pg_app.state.session_factory() as db:
        listing = listing_of(GADGETS)
        everything = listing.bounded_count(db, listing.filters.model())
        filtered = listing.bounded_count(db, listing.filters.model(weight_min=10))
        few = listing.bounded_count(db, listing.filters.model(weight_min=49))
    assert str(everything) == "about 300" and str(filtered).startswith("about ") and few == 6


def test_copy_export_is_byte_equal_to_the_python_path(pg_app) -> None:  # noqa: ANN001
    with unit_of_work(pg_app.state.session_factory, CLI_ACTOR) as ctx:
        for n, name in enumerate(["=cmd", "a,b", 'q"uote', "line\nbreak", "plain"]):
            records.create(ctx, GADGETS, GadgetCreate(name=name, weight=n, in_stock=n % 2 == 0,
                                                      delivered_on=date(2026, 1, n + 1) if n % 2 else None))
    columns = export_columns(GADGETS)
    listing = listing_of(GADGETS)
    statement = listing.ordered(listing.filters.model(), listing.ordering("id"), ["keeper"])
    factory, dialect = pg_app.state.session_factory, pg_app.state.engine.dialect
    copying = copy_select(columns, statement, dialect)
    assert copying is not None  # every column has a text form in SQL
    copied = b"".join(CopyCSV(columns, factory, copying))
    python = "".join(csv_chunks(columns, stream_rows(factory, export_statement(columns, statement)))).encode()
    assert copied == python and copied.count(b"\n") > 5


def test_a_declared_table_gets_undo(app, editor, gadgets) -> None:  # noqa: ANN001
    """Revert a bulk edit and a delete of the test's own table: bool, date and a reference come back."""
    import re

    ids, keeper = gadgets

    def undo(page: str) -> None:
        link = html.unescape(re.search(r'id="undo-link" href="([^"]+)"', page).group(1))
        assert editor.get(link).status_code == 200
        assert editor.post(link, headers=ORIGIN).status_code == 303

    def rows() -> dict[str, tuple]:
        with app.state.session_factory() as db:
            return {g.name: (g.id, g.kind, g.in_stock, g.delivered_on, g.keeper_id)
                    for g in db.execute(select(Gadget)).scalars()}

    before = rows()
    restocked = editor.post("/admin/gadget/action/restock?in_stock=false", data={"scope": "all"}, headers=ORIGIN,
                            follow_redirects=True)
    assert rows()["Hammer"][2] is True
    undo(restocked.text)
    assert rows() == before
    gone = editor.post("/admin/gadget/action/delete-gadgets", data={"scope": "selected", "pks": f"{ids['Drill']}"},
                       headers=ORIGIN, follow_redirects=True)
    assert "Drill" not in rows()
    undo(gone.text)
    assert rows() == before and before["Drill"][4] == keeper.id
