"""The seed tutorial's validation, in the Create/Update models used by the API and the admin."""

import pytest
from pydantic import ValidationError

from models import Task, TaskCreate, TaskStatus, TaskUpdate, User


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "description": "d" * 1001}, "description"),
        ({"title": "ok", "priority": 0}, "priority"),
        ({"title": "ok", "priority": 6}, "priority"),
        ({"title": "ok", "status": "archived"}, "status"),
        ({"title": "nul\x00byte"}, "title"),
        ({"title": "ok", "unknown": 1}, "unknown"),
    ],
)
def test_task_create_refuses(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        TaskCreate.model_validate(data)
    assert info.value.errors()[0]["loc"][0] == field


def test_task_create_accepts_the_edges() -> None:
    task = TaskCreate.model_validate(
        {"title": " x" + "y" * 198, "description": "d" * 1000, "priority": 5, "status": "done"}
    )
    assert task.title == "x" + "y" * 198
    assert task.status is TaskStatus.done
    # The length is that of the title as sent (what the schema's maxLength says), then stripped.
    with pytest.raises(ValidationError):
        TaskCreate.model_validate({"title": " x" + "y" * 199})


def test_task_update_is_partial() -> None:
    update = TaskUpdate.model_validate({"priority": 3})
    assert update.model_dump(exclude_unset=True) == {"priority": 3}
    with pytest.raises(ValidationError):
        TaskUpdate.model_validate({"title": ""})


def test_completed_at_follows_status() -> None:
    task = Task(title="t", status=TaskStatus.done)
    task.apply_status_rules()
    assert task.completed_at is not None
    task.status = TaskStatus.pending
    task.apply_status_rules()
    assert task.completed_at is None


def test_user_text_never_shows_the_hash() -> None:
    user = User(email="a@example.com", hashed_password="$argon2id$secret")
    assert "argon2" not in str(user)
    assert "argon2" not in repr(user)
