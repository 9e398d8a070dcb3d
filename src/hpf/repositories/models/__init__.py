"""SQLAlchemy models: one module per area, one MetaData for Alembic.

Models are persistence shapes, not domain objects: services turn them into domain values
and DTOs. Portable types only (see docs/architecture.md, "Databases").
"""

from hpf.repositories.models.access import (
    ApiToken,
    ApprovalPolicy,
    ApprovalRequest,
    Role,
    RolePermission,
    UserRole,
    UserSecurity,
)
from hpf.repositories.models.audit import AuditArchive, AuditChain, AuditCheckpoint, AuditEvent
from hpf.repositories.models.base import Base, support_tables
from hpf.repositories.models.certificates import DepositCertificate
from hpf.repositories.models.codes import CodeItem, CodeType
from hpf.repositories.models.collection import (
    AccountDetail,
    BankCredit,
    InterestRun,
    Remittance,
    RemittanceLine,
)
from hpf.repositories.models.crypto import CryptoKey
from hpf.repositories.models.idempotency import IdempotencyRecord
from hpf.repositories.models.jobs import JobRun
from hpf.repositories.models.ledger import LedgerEntry, LedgerVoucher
from hpf.repositories.models.org import OrgUnit, User
from hpf.repositories.models.params import ParamDef, ParamValue
from hpf.repositories.models.people import IndividualAccount, Person
from hpf.repositories.models.security import LoginThrottle, PasswordHistory, StaffSession
from hpf.repositories.models.units import Unit

metadata = Base.metadata

__all__ = [
    "AccountDetail",
    "ApiToken",
    "ApprovalPolicy",
    "ApprovalRequest",
    "AuditArchive",
    "AuditChain",
    "AuditCheckpoint",
    "AuditEvent",
    "BankCredit",
    "Base",
    "CodeItem",
    "CodeType",
    "CryptoKey",
    "DepositCertificate",
    "IdempotencyRecord",
    "IndividualAccount",
    "InterestRun",
    "JobRun",
    "LedgerEntry",
    "LedgerVoucher",
    "LoginThrottle",
    "OrgUnit",
    "ParamDef",
    "ParamValue",
    "PasswordHistory",
    "Person",
    "Remittance",
    "RemittanceLine",
    "Role",
    "RolePermission",
    "StaffSession",
    "Unit",
    "User",
    "UserRole",
    "UserSecurity",
    "metadata",
    "support_tables",
]
