"""SQLModel tables and their API schemas, one module per entity."""

from models.task import Task, TaskCreate, TaskPublic, TaskStatus, TaskUpdate
from models.user import Role, User, UserCreate, UserPublic, UserRef, UserUpdate

__all__ = [
    "Role",
    "Task",
    "TaskCreate",
    "TaskPublic",
    "TaskStatus",
    "TaskUpdate",
    "User",
    "UserCreate",
    "UserPublic",
    "UserRef",
    "UserUpdate",
]
