"""SQLModel tables and their API schemas, one module per entity."""

from models.api_token import ApiToken, ApiTokenCreate, ApiTokenCreated, ApiTokenPublic
from models.audit import AuditEntry, AuditEntryPublic, ChangeSet, ChangeSetPublic
from models.auth_session import AuthSession, AuthSessionPublic
from models.job import Job, JobInput, JobPublic, JobStatus
from models.list_preference import ListPreference
from models.login_attempt import LoginFailure
from models.project import (
    Project,
    ProjectCreate,
    ProjectPublic,
    ProjectRef,
    ProjectReplace,
    ProjectUpdate,
)
from models.saved_view import SavedView, SavedViewPublic
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
from models.user import Role, User, UserCreate, UserPublic, UserRef, UserUpdate

__all__ = [
    "ApiToken",
    "ApiTokenCreate",
    "ApiTokenCreated",
    "ApiTokenPublic",
    "AuditEntry",
    "AuditEntryPublic",
    "AuthSession",
    "ChangeSet",
    "ChangeSetPublic",
    "AuthSessionPublic",
    "Job",
    "JobInput",
    "JobPublic",
    "JobStatus",
    "ListPreference",
    "LoginFailure",
    "Passkey",
    "PasskeyPublic",
    "PendingLogin",
    "Project",
    "ProjectCreate",
    "ProjectPublic",
    "ProjectRef",
    "ProjectReplace",
    "ProjectUpdate",
    "RecoveryCode",
    "SavedView",
    "SavedViewPublic",
    "SecondFactorStatus",
    "Role",
    "Task",
    "TaskCreate",
    "TaskPublic",
    "TaskReplace",
    "TaskStatus",
    "TaskUpdate",
    "TotpFactor",
    "User",
    "UserCreate",
    "UserPublic",
    "UserRef",
    "UserUpdate",
]
