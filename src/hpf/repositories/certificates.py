"""Deposit certificates by verification code: add and flush, never commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.repositories.models.certificates import DepositCertificate


class CertificateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, certificate: DepositCertificate) -> DepositCertificate:
        self.session.add(certificate)
        self.session.flush()
        return certificate

    def by_code(self, code: str, *, for_update: bool = False) -> DepositCertificate | None:
        query = select(DepositCertificate).where(DepositCertificate.code == code)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def code_taken(self, code: str) -> bool:
        query = select(DepositCertificate.id).where(DepositCertificate.code == code)
        return self.session.scalar(query) is not None
