"""metadata definitions catalog: namespaces, objects, properties, tags, resource types

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _name():
    # Binary collation on MariaDB/MySQL: names differing in case are two
    # names there too, as on PostgreSQL and SQLite.
    return sa.String(length=80).with_variant(
        mysql.VARCHAR(80, charset='utf8mb4', collation='utf8mb4_bin'),
        'mysql', 'mariadb')


def _timestamps():
    return [sa.Column('created_at', sa.DateTime(), nullable=True),
            sa.Column('updated_at', sa.DateTime(), nullable=True)]


def _namespace_part(table, *columns):
    """A table of named rows inside a namespace, unique per namespace."""
    op.create_table(
        table,
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('namespace_id', sa.Integer(), nullable=False),
        sa.Column('name', _name(), nullable=False),
        *columns, *_timestamps(),
        sa.ForeignKeyConstraint(['namespace_id'], ['metadef_namespaces.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_%s_namespace_id_name' % table),
    )
    op.create_index('ix_%s_name' % table, table, ['name'], unique=False)


def upgrade():
    op.create_table(
        'metadef_namespaces',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('namespace', _name(), nullable=False),
        sa.Column('display_name', sa.String(length=80), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(length=32), nullable=False),
        sa.Column('protected', sa.Boolean(), nullable=False),
        sa.Column('owner', sa.String(length=255), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('namespace',
                            name='uq_metadef_namespaces_namespace'),
    )
    op.create_index('ix_metadef_namespaces_owner', 'metadef_namespaces',
                    ['owner'], unique=False)
    _namespace_part('metadef_objects',
                    sa.Column('description', sa.Text(), nullable=True),
                    sa.Column('required', sa.Text(), nullable=True),
                    sa.Column('json_schema', sa.Text(), nullable=False))
    _namespace_part('metadef_properties',
                    sa.Column('json_schema', sa.Text(), nullable=False))
    _namespace_part('metadef_tags')
    op.create_table(
        'metadef_resource_types',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', _name(), nullable=False),
        sa.Column('protected', sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name', name='uq_metadef_resource_types_name'),
    )
    op.create_table(
        'metadef_namespace_resource_types',
        sa.Column('resource_type_id', sa.Integer(), nullable=False),
        sa.Column('namespace_id', sa.Integer(), nullable=False),
        sa.Column('properties_target', sa.String(length=80), nullable=True),
        sa.Column('prefix', sa.String(length=80), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(['namespace_id'], ['metadef_namespaces.id']),
        sa.ForeignKeyConstraint(['resource_type_id'],
                                ['metadef_resource_types.id']),
        sa.PrimaryKeyConstraint('resource_type_id', 'namespace_id'),
    )
    op.create_index('ix_metadef_ns_res_types_namespace_id',
                    'metadef_namespace_resource_types', ['namespace_id'],
                    unique=False)
