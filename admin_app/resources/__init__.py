"""Every table the admin and the API serve, each declared once (see spec.py for the parts)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from admin_app.resources.spec import Relation, Resource


class Registry:
    """The declared tables of one app, in menu order."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self._resources = list(resources)
        names = [r.name for r in self._resources]
        if len(set(names)) != len(names):
            raise ValueError(f"two resources share a name: {names}")

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._resources)

    def get(self, name: str) -> Resource:
        return next(r for r in self._resources if r.name == name)

    def of_model(self, model: type) -> Resource | None:
        return next((r for r in self._resources if r.model is model), None)

    def referencing(self, model: type) -> list[tuple[Resource, Relation]]:
        """The relations of other tables that point at `model` (what deleting its rows touches)."""
        return [(r, rel) for r in self._resources for rel in r.relations if rel.target is model]


def default_resources() -> Registry:
    """The product's tables: tasks, projects and staff accounts."""
    from admin_app.resources.projects import PROJECTS
    from admin_app.resources.tasks import TASKS
    from admin_app.resources.users import USERS

    return Registry([TASKS, PROJECTS, USERS])
