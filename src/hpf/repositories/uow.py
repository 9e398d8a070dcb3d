"""Unit of work: one transaction per business action; only ``commit()`` makes it stick.

``with uow:`` opens a session; leaving the block without ``uow.commit()`` rolls back, so a
service that raises half-way writes nothing (cosmicpython ch. 6).
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from hpf.crypto import keys
from hpf.repositories.access import AccessRepository
from hpf.repositories.accounts import AccountRepository
from hpf.repositories.audit import AuditRepository
from hpf.repositories.certificates import CertificateRepository
from hpf.repositories.codes import CodeRepository
from hpf.repositories.collection import CollectionRepository
from hpf.repositories.jobs import JobRunRepository
from hpf.repositories.ledger import LedgerRepository
from hpf.repositories.orgs import OrgRepository, ThrottleRepository, UserRepository
from hpf.repositories.params import ParamRepository
from hpf.repositories.units import UnitRepository
from hpf_adapters.db import Adapter, Database


class UnitOfWork:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._factory = sessionmaker(database.engine, expire_on_commit=False)
        self.session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        keys.for_engine(self.database.engine).refresh_if_stale()  # before, never during, the transaction
        self.database.adapter  # noqa: B018 - server detection (first use) also before it
        self.session = self._factory()
        for name, attr in vars(type(self)).items():  # repositories belong to one session
            if isinstance(attr, cached_property):
                self.__dict__.pop(name, None)
        return self

    def __exit__(self, *exc) -> None:
        assert self.session is not None
        self.session.rollback()
        self.session.close()
        self.session = None

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()

    @property
    def adapter(self) -> Adapter:
        return self.database.adapter

    @cached_property
    def access(self) -> AccessRepository:
        return AccessRepository(self._s())

    @cached_property
    def throttle(self) -> ThrottleRepository:
        return ThrottleRepository(self._s())

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self._s())

    @cached_property
    def params(self) -> ParamRepository:
        return ParamRepository(self._s())

    @cached_property
    def codes(self) -> CodeRepository:
        return CodeRepository(self._s())

    @cached_property
    def orgs(self) -> OrgRepository:
        return OrgRepository(self._s())

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self._s())

    @cached_property
    def units(self) -> UnitRepository:
        return UnitRepository(self._s())

    @cached_property
    def accounts(self) -> AccountRepository:
        return AccountRepository(self._s())

    @cached_property
    def ledger(self) -> LedgerRepository:
        return LedgerRepository(self._s(), self.database.adapter)

    @cached_property
    def certificates(self) -> CertificateRepository:
        return CertificateRepository(self._s())

    @cached_property
    def collection(self) -> CollectionRepository:
        return CollectionRepository(self._s(), self.database.adapter)

    @cached_property
    def job_runs(self) -> JobRunRepository:
        return JobRunRepository(self._s(), self.database.adapter)

    def _s(self) -> Session:
        if self.session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self.session
