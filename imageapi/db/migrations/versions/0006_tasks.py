"""tasks: Glance's tasks API and the import tasks, with the lease of a running one

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Additive only: one new table.
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tasks',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('type', sa.String(length=30), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('owner', sa.String(length=255), nullable=False),
        sa.Column('image_id', sa.String(length=36), nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('user_id', sa.String(length=64), nullable=True),
        sa.Column('input', sa.Text(), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_tasks_owner', 'tasks', ['owner'])
    op.create_index('ix_tasks_image_id', 'tasks', ['image_id'])
    op.create_index('ix_tasks_status_lease_expires_at', 'tasks',
                    ['status', 'lease_expires_at'])
    op.create_index('ix_tasks_expires_at', 'tasks', ['expires_at'])
