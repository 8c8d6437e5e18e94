"""Words the admin's Python shows to staff go through gettext: no bare English literal in the
places a page takes its words from (flash messages, refusals, page titles, errors, notices).

The template test (test_catalogs.py) reads the templates; this reads admin_app/admin/*.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ADMIN = Path(__file__).parents[2] / "admin_app" / "admin"
REFUSALS = {"StaffError", "InvalidInput", "HTTPException"}  # their message arguments
FLASHES = {"success", "info", "error", "warning"}  # Flash.<kind>(request, message)
WORDS = {"title", "error", "notice", "subtitle", "message", "detail", "label"}  # keyword or dict key
# The product's name, shown as it is in every language.
NOT_WORDS = {"Task back-office"}
WORD = re.compile(r"[A-Za-z]{2,}")


def _english(node: ast.AST) -> bool:
    """A literal (or an f-string, a concatenation, a choice of them) with words in it."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(WORD.search(node.value)) and node.value not in NOT_WORDS
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and WORD.search(v.value) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _english(node.left) or _english(node.right)
    if isinstance(node, ast.IfExp):
        return _english(node.body) or _english(node.orelse)
    return False


def unmarked(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        shown: list[ast.AST] = []
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in REFUSALS:
                shown += node.args[:2]
            if (isinstance(func, ast.Attribute) and func.attr in FLASHES
                    and isinstance(func.value, ast.Name) and func.value.id == "Flash"):
                shown += node.args[1:2]
            shown += [k.value for k in node.keywords if k.arg in WORDS]
        elif isinstance(node, ast.Dict):
            shown += [v for k, v in zip(node.keys, node.values, strict=True)
                      if isinstance(k, ast.Constant) and k.value in WORDS]
        found += [(n.lineno, ast.unparse(n)) for n in shown if _english(n)]
    return found


def test_no_english_literal_reaches_an_admin_page() -> None:
    found = {f"{path.relative_to(ADMIN)}:{line}": text
             for path in sorted(ADMIN.rglob("*.py")) for line, text in unmarked(path.read_text())}
    assert found == {}, "wrap these in _() / gettext (README: Translations)"


def test_the_check_sees_what_it_looks_for() -> None:
    source = '''
Flash.success(request, "Saved.")
raise StaffError(f"Code: {code}")
page(title="My account", error=_("fine"), notice=name)
context = {"title": "Import " + plural, "rows": "not shown"}
'''
    assert [line for line, _text in unmarked(source)] == [2, 3, 4, 5]


# --- the write path: services and declarations -------------------------------------------------
# Their refusals are English for the API and translated by the admin (errors.Words): a message
# is an `N_`-marked template with its values as parameters, never an f-string or a bare literal.
SERVICES = [ADMIN.parent / "services", ADMIN.parent / "resources"]
REFUSED_BY_SERVICES = {"ServiceError", "InvalidInput", "Conflict", "NotFound", "Forbidden", "Words"}


def unmarked_refusals(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    bare = {t.id for node in tree.body if isinstance(node, ast.Assign) and _english(node.value)
            for t in node.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in REFUSED_BY_SERVICES and node.args):
            first = node.args[0]
            choices = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for arg in choices:
                if _english(arg) or (isinstance(arg, ast.Name) and arg.id in bare):
                    found.append((node.lineno, ast.unparse(arg)))
    return found


def test_every_refusal_of_the_write_path_is_a_marked_template() -> None:
    found = {f"{path.relative_to(ADMIN.parent)}:{line}": text
             for folder in SERVICES for path in sorted(folder.rglob("*.py"))
             for line, text in unmarked_refusals(path.read_text())}
    assert found == {}, "use N_(\"... %(name)s ...\") with name=... (admin_app/errors.py: Words)"


def test_the_refusal_check_sees_what_it_looks_for() -> None:
    source = '''
RULE = "You may not."
MARKED = N_("You may.")
raise NotFound(f"Task {row_id} not found.")
raise Conflict(RULE)
raise Conflict(MARKED)
raise InvalidInput(N_("No %(name)s."), name=name)
raise InvalidInput("a" if x else "Give it a name.")
errors[1] = Words("Changed.")
raise InvalidInput(message)
'''
    assert [line for line, _text in unmarked_refusals(source)] == [4, 5, 8, 9]
