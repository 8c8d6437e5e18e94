"""The user list (admins only): columns, search, filters on role and active."""

from __future__ import annotations

import re

from models import Role


def emails(page: str) -> list[str]:
    return sorted(set(re.findall(r"<td[^>]*>([a-z0-9.]+@example\.com)</td>", page)))


def test_user_list_search_and_filters(admin, make_user) -> None:  # noqa: ANN001
    make_user("ann@example.com", Role.editor, full_name="Ann Smith")
    make_user("ben@example.com", Role.viewer, full_name="Ben Jones", active=False)
    make_user("cat@example.com", Role.viewer, full_name="Cat Smith")
    page = admin.get("/admin/user/list").text
    for header in ("Email", "Full name", "Role", "Active", "Last login"):
        assert re.search(rf">\s*{header}\s*</a>|<th[^>]*>\s*{header}\s*</th>", page), header
    assert emails(page) == sorted(["ann@example.com", "ben@example.com", "cat@example.com", admin.user.email])
    assert emails(admin.get("/admin/user/list?search=smith").text) == ["ann@example.com", "cat@example.com"]
    assert emails(admin.get("/admin/user/list?role=viewer").text) == ["ben@example.com", "cat@example.com"]
    assert emails(admin.get("/admin/user/list?is_active=false").text) == ["ben@example.com"]
    assert emails(admin.get("/admin/user/list?role=viewer&is_active=true").text) == ["cat@example.com"]
    assert "argon2" not in page
