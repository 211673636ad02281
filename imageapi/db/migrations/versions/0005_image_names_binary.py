"""image tags, property names and member ids compared byte for byte on MariaDB/MySQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

MariaDB's default collation ignores case: tags 'a' and 'A', or properties 'Foo' and
'foo', were one key there (a unique-constraint 500) and two on PostgreSQL and SQLite.
(utf8mb4_bin still ignores trailing spaces.) Nothing is dropped: only the collation of three columns changes.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_COLUMNS = (('image_tags', 'value'), ('image_properties', 'name'),
            ('image_members', 'member'))


def upgrade():
    if op.get_bind().dialect.name != 'mysql':
        return
    for table, column in _COLUMNS:
        op.alter_column(
            table, column, existing_type=sa.String(255),
            type_=mysql.VARCHAR(255, charset='utf8mb4',
                                collation='utf8mb4_bin'),
            existing_nullable=False)
