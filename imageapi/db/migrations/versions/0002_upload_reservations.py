"""upload reservations and per-owner storage usage

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upload_reserved', sa.BigInteger(),
                                      nullable=False, server_default='0'))
    op.create_table(
        'storage_usage',
        sa.Column('owner', sa.String(length=255), nullable=False),
        sa.Column('used', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('owner'),
    )
    # Count what existing images already store.
    images = sa.table('images', sa.column('owner', sa.String),
                      sa.column('size', sa.BigInteger),
                      sa.column('deleted', sa.Boolean))
    usage = sa.table('storage_usage', sa.column('owner', sa.String),
                     sa.column('used', sa.BigInteger))
    owner = sa.func.coalesce(images.c.owner, '')
    op.execute(usage.insert().from_select(
        ['owner', 'used'],
        sa.select(owner, sa.func.sum(images.c.size))
        .where(images.c.deleted == sa.false(), images.c.size.isnot(None))
        .group_by(owner)))
