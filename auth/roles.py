"""The role table: one set of (resource, action) grants per role, used by the admin and the API.

Resources are the declared tables' permission names (`task`, `project`, `user`), the audit
log (`audit-entry`) and `account`
(my password, sessions and tokens) and `saved-view` (saved views of the lists: `own` keeps
personal ones, of the lists the role may read; `share` makes and manages shared ones). Actions are SQLAdmin's (`list`, `details`, `create`,
`edit`, `delete`, `export`, `import`) and `action:<slug>` for bulk actions; `*` is any.
"""

from __future__ import annotations

from sqladmin.authorization import matches_grant

from models import Role

Grant = tuple[str, str]

ROLE_GRANTS: dict[Role, frozenset[Grant]] = {
    Role.viewer: frozenset(
        {("task", "list"), ("task", "details"), ("task", "export"),
         ("project", "list"), ("project", "details"), ("project", "export"), ("account", "*"),
         ("saved-view", "own")}
    ),
    Role.editor: frozenset({("task", "*"), ("project", "*"), ("account", "*"), ("saved-view", "own")}),
    Role.admin: frozenset(
        {("task", "*"), ("project", "*"), ("user", "*"), ("audit-entry", "list"), ("audit-entry", "details"),
         ("audit-entry", "export"), ("account", "*"), ("session", "*"), ("saved-view", "*")}
    ),
}


def grants_for(role: Role | str) -> frozenset[Grant]:
    try:
        return ROLE_GRANTS[Role(role)]
    except ValueError:
        return frozenset()


def role_allows(role: Role | str, resource: str, action: str) -> bool:
    return matches_grant(set(grants_for(role)), resource, action)
