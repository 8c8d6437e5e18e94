"""SQLModel tables and their API schemas, one module per entity."""

from models.api_token import ApiToken, ApiTokenCreate, ApiTokenCreated, ApiTokenPublic
from models.audit import AuditEntry, AuditEntryPublic
from models.auth_session import AuthSession, AuthSessionPublic
from models.login_attempt import LoginFailure
from models.second_factor import (
    Passkey,
    PasskeyPublic,
    PendingLogin,
    RecoveryCode,
    SecondFactorStatus,
    TotpFactor,
)
from models.task import (
    Task,
    TaskCreate,
    TaskPublic,
    TaskReplace,
    TaskStatus,
    TaskUpdate,
)
from models.task_filter import TaskFilter
from models.user import Role, User, UserCreate, UserPublic, UserRef, UserUpdate
from models.user_filter import UserFilter

__all__ = [
    "ApiToken",
    "ApiTokenCreate",
    "ApiTokenCreated",
    "ApiTokenPublic",
    "AuditEntry",
    "AuditEntryPublic",
    "AuthSession",
    "AuthSessionPublic",
    "LoginFailure",
    "Passkey",
    "PasskeyPublic",
    "PendingLogin",
    "RecoveryCode",
    "SecondFactorStatus",
    "Role",
    "Task",
    "TaskCreate",
    "TaskFilter",
    "TaskPublic",
    "TaskReplace",
    "TaskStatus",
    "TaskUpdate",
    "TotpFactor",
    "User",
    "UserCreate",
    "UserFilter",
    "UserPublic",
    "UserRef",
    "UserUpdate",
]
