"""SQLAlchemy declarative models of the imageapi schema: the table definitions.

The repository modules in db/ read and write their tables with Core statements (no ORM
objects, hence no relationships here); alembic and the migration tests compare the
schema with them.
"""

from oslo_db.sqlalchemy import models
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm

BASE = orm.declarative_base()


def exact_string(length):
    """A String compared byte for byte on every database.

    MariaDB's default collation ignores case, so two keys that differ only
    in case would collide on a unique constraint there and not on
    PostgreSQL or SQLite (migration 0005).
    """
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset='utf8mb4', collation='utf8mb4_bin'),
        'mysql', 'mariadb')


class _Base(models.ModelBase, models.TimestampMixin):
    """created_at/updated_at on every table."""


class Image(BASE, _Base):
    __tablename__ = 'images'
    __table_args__ = (
        sa.Index('ix_images_owner', 'owner'),
        sa.Index('ix_images_visibility', 'visibility'),
        sa.Index('ix_images_deleted_created_at', 'deleted', 'created_at'),
        sa.Index('ix_images_deleted_updated_at', 'deleted', 'updated_at'),
        sa.Index('ix_images_status', 'status'),
        sa.Index('ix_images_name', 'name'),
        sa.Index('ix_images_checksum', 'checksum'),
        sa.Index('ix_images_os_hash_value', 'os_hash_value'),
        sa.Index('ix_images_upload_expires_at', 'upload_expires_at'),
    )

    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(sa.String(255))
    disk_format = sa.Column(sa.String(20))
    container_format = sa.Column(sa.String(20))
    size = sa.Column(sa.BigInteger)
    virtual_size = sa.Column(sa.BigInteger)
    status = sa.Column(sa.String(30), nullable=False)
    visibility = sa.Column(sa.String(20), nullable=False)
    checksum = sa.Column(sa.String(32))
    os_hash_algo = sa.Column(sa.String(64))
    os_hash_value = sa.Column(sa.String(128))
    min_disk = sa.Column(sa.Integer, nullable=False, default=0)
    min_ram = sa.Column(sa.Integer, nullable=False, default=0)
    owner = sa.Column(sa.String(255))
    protected = sa.Column(sa.Boolean, nullable=False, default=False)
    os_hidden = sa.Column(sa.Boolean, nullable=False, default=False)
    deleted = sa.Column(sa.Boolean, nullable=False, default=False)
    deleted_at = sa.Column(sa.DateTime)
    # The upload claim: who holds `saving` and until when (see db/uploads.py
    # upload_claim and the reaper in api/v2/upload_leases.py).
    upload_claim = sa.Column(sa.String(36))
    upload_expires_at = sa.Column(sa.DateTime)
    # Bytes of storage_usage this upload holds while it runs.
    upload_reserved = sa.Column(sa.BigInteger, nullable=False, default=0,
                                server_default='0')


class ImageProperty(BASE, _Base):
    __tablename__ = 'image_properties'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'name',
                            name='uq_image_properties_image_id_name'),
        sa.Index('ix_image_properties_name', 'name'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    name = sa.Column(exact_string(255), nullable=False)
    value = sa.Column(sa.Text)


class ImageTag(BASE, _Base):
    __tablename__ = 'image_tags'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'value',
                            name='uq_image_tags_image_id_value'),
        sa.Index('ix_image_tags_value', 'value'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    value = sa.Column(exact_string(255), nullable=False)


class ImageLocation(BASE, _Base):
    __tablename__ = 'image_locations'
    __table_args__ = (
        sa.Index('ix_image_locations_image_id', 'image_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    value = sa.Column(sa.Text, nullable=False)
    meta_data = sa.Column(sa.Text)
    status = sa.Column(sa.String(30), nullable=False, default='active')


class StorageUsage(BASE, _Base):
    """Bytes each owner's images use or have reserved for running uploads.

    Changed only by conditional UPDATEs (db/records.py usage_add), in the
    same transaction as the image status change that causes the change.
    """

    __tablename__ = 'storage_usage'

    owner = sa.Column(sa.String(255), primary_key=True)
    used = sa.Column(sa.BigInteger, nullable=False, default=0)


class ImageMember(BASE, _Base):
    """A project an image is shared with, and whether it took the share.

    Rows are deleted outright when the share ends; only the member
    project sets ``status`` (pending, accepted or rejected).
    """

    __tablename__ = 'image_members'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'member',
                            name='uq_image_members_image_id_member'),
        sa.Index('ix_image_members_member_status', 'member', 'status'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    member = sa.Column(exact_string(255), nullable=False)
    status = sa.Column(sa.String(20), nullable=False, default='pending')
    # Glance's column; sharing onwards is not implemented by either.
    can_share = sa.Column(sa.Boolean, nullable=False, default=False)


class Task(BASE, _Base):
    """An asynchronous task (Glance's tasks API): an import, its status and lease.

    ``input`` and ``result`` are JSON text. While a process runs the task it
    renews ``lease_expires_at`` (db/tasks.py task_renew); a task whose lease
    ran out is failed by any node's reaper (imageapi/leases.py). Finished
    tasks get ``expires_at`` and are purged after it.
    """

    __tablename__ = 'tasks'
    __table_args__ = (
        sa.Index('ix_tasks_owner', 'owner'),
        sa.Index('ix_tasks_image_id', 'image_id'),
        sa.Index('ix_tasks_status_lease_expires_at', 'status',
                 'lease_expires_at'),
        sa.Index('ix_tasks_expires_at', 'expires_at'),
    )

    id = sa.Column(sa.String(36), primary_key=True)
    type = sa.Column(sa.String(30), nullable=False)
    status = sa.Column(sa.String(30), nullable=False)
    owner = sa.Column(sa.String(255), nullable=False)
    image_id = sa.Column(sa.String(36))
    request_id = sa.Column(sa.String(64))
    user_id = sa.Column(sa.String(64))
    input = sa.Column(sa.Text)
    result = sa.Column(sa.Text)
    message = sa.Column(sa.Text)
    expires_at = sa.Column(sa.DateTime)
    lease_expires_at = sa.Column(sa.DateTime)


# The metadata definitions catalog (/v2/metadefs): namespaces and the objects,
# properties, tags and resource type associations in them. Names are
# String(80) as in Glance; the API schemas cap every string at what its
# column holds on SQLite, PostgreSQL and MariaDB.


def metadef_name():
    """A name column type: 80 characters, compared byte for byte everywhere.

    MariaDB's default collation ignores case, so 'OS::A' and 'os::a' would
    be one name there and two on PostgreSQL and SQLite; a binary collation
    makes them two on all three.
    """
    return sa.String(80).with_variant(
        mysql.VARCHAR(80, charset='utf8mb4', collation='utf8mb4_bin'),
        'mysql', 'mariadb')


class MetadefNamespace(BASE, _Base):
    __tablename__ = 'metadef_namespaces'
    __table_args__ = (
        sa.UniqueConstraint('namespace',
                            name='uq_metadef_namespaces_namespace'),
        sa.Index('ix_metadef_namespaces_owner', 'owner'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace = sa.Column(metadef_name(), nullable=False)
    display_name = sa.Column(sa.String(80))
    description = sa.Column(sa.Text)
    visibility = sa.Column(sa.String(32), nullable=False, default='private')
    protected = sa.Column(sa.Boolean, nullable=False, default=False)
    owner = sa.Column(sa.String(255), nullable=False)


class _NamespacePart(_Base):
    """A row named uniquely inside one namespace: object, property or tag."""

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    name = sa.Column(metadef_name(), nullable=False)

    @orm.declared_attr
    def namespace_id(cls):
        return sa.Column(sa.Integer, sa.ForeignKey('metadef_namespaces.id'),
                         nullable=False)

    @orm.declared_attr
    def __table_args__(cls):
        table = cls.__tablename__
        return (sa.UniqueConstraint('namespace_id', 'name',
                                    name='uq_%s_namespace_id_name' % table),
                sa.Index('ix_%s_name' % table, 'name'))


class MetadefObject(BASE, _NamespacePart):
    __tablename__ = 'metadef_objects'

    description = sa.Column(sa.Text)
    # JSON text: the list of required property names, and the properties.
    required = sa.Column(sa.Text)
    json_schema = sa.Column(sa.Text, nullable=False)


class MetadefProperty(BASE, _NamespacePart):
    __tablename__ = 'metadef_properties'

    # JSON text: the property definition without its name.
    json_schema = sa.Column(sa.Text, nullable=False)


class MetadefTag(BASE, _NamespacePart):
    __tablename__ = 'metadef_tags'


class MetadefResourceType(BASE, _Base):
    """A kind of resource namespaces apply to (OS::Glance::Image, ...).

    Created on first association; ``protected`` ones came from a catalog
    file (imageapi-manage db load_metadefs).
    """

    __tablename__ = 'metadef_resource_types'
    __table_args__ = (
        sa.UniqueConstraint('name', name='uq_metadef_resource_types_name'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    name = sa.Column(metadef_name(), nullable=False)
    protected = sa.Column(sa.Boolean, nullable=False, default=False)


class MetadefNamespaceResourceType(BASE, _Base):
    __tablename__ = 'metadef_namespace_resource_types'
    __table_args__ = (
        sa.Index('ix_metadef_ns_res_types_namespace_id', 'namespace_id'),
    )

    resource_type_id = sa.Column(
        sa.Integer, sa.ForeignKey('metadef_resource_types.id'),
        primary_key=True)
    namespace_id = sa.Column(
        sa.Integer, sa.ForeignKey('metadef_namespaces.id'), primary_key=True)
    properties_target = sa.Column(sa.String(80))
    prefix = sa.Column(sa.String(80))
