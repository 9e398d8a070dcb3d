"""People (个人) and their individual accounts (个人账户): found by blind index or number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.crypto.fields import blind_index_candidates
from hpf.repositories.models import IndividualAccount, Person, Unit


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, account_id: int, *, for_update: bool = False) -> IndividualAccount | None:
        query = select(IndividualAccount).where(IndividualAccount.id == account_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def person(self, person_id: int) -> Person | None:
        return self.session.get(Person, person_id)

    def people_by_id_number(self, id_number: str) -> list[Person]:
        candidates = blind_index_candidates(self.session, "person.id_number", id_number)
        query = select(Person).where(Person.id_number_bidx.in_(candidates)).order_by(Person.id)
        # A blind index is a look-up aid: confirm on the decrypted value.
        return [p for p in self.session.scalars(query) if p.id_number == id_number]

    def of_people(self, person_ids: list[int]) -> list[IndividualAccount]:
        if not person_ids:
            return []
        query = (select(IndividualAccount).where(IndividualAccount.person_id.in_(person_ids))
                 .order_by(IndividualAccount.id))
        return list(self.session.scalars(query))

    def find(self, org_ids: frozenset[int] | None, *, person_ids: list[int] | None = None,
             account_no: str | None = None) -> list[IndividualAccount]:
        """Accounts by person or number, limited to units of the given organisations (None: all;
        an account without a unit is then only visible centre-wide)."""
        query = select(IndividualAccount).outerjoin(Unit, Unit.id == IndividualAccount.unit_id)
        if org_ids is not None:
            query = query.where(Unit.org_id.in_(org_ids))
        if person_ids is not None:
            query = query.where(IndividualAccount.person_id.in_(person_ids or [-1]))
        if account_no is not None:
            query = query.where(IndividualAccount.account_no == account_no)
        return list(self.session.scalars(query.order_by(IndividualAccount.id).limit(100)))

    def add_person(self, person: Person) -> Person:
        self.session.add(person)
        self.session.flush()
        return person

    def add(self, account: IndividualAccount) -> IndividualAccount:
        self.session.add(account)
        self.session.flush()
        return account
