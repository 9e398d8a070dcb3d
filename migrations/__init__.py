"""hpf_migrations: the one Alembic history of HPF Core, shipped inside the package.

Every revision is written for SQLite, PostgreSQL/openGauss and MySQL/MariaDB/OceanBase:
portable types, explicit constraint names, no enum types, one change per revision (MySQL
and OceanBase commit DDL implicitly, so a failed revision must be easy to reason about).
"""

from pathlib import Path

SCRIPT_LOCATION = str(Path(__file__).parent)
