"""SQLAlchemy declarative models of the imageapi schema: the table definitions.

The repository modules in db/ read and write their tables with Core statements (no ORM
objects, hence no relationships here); alembic and the migration tests compare the
schema with them.
"""

from oslo_db.sqlalchemy import models
import sqlalchemy as sa
from sqlalchemy import orm

BASE = orm.declarative_base()


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
    name = sa.Column(sa.String(255), nullable=False)
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
    value = sa.Column(sa.String(255), nullable=False)


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
    member = sa.Column(sa.String(255), nullable=False)
    status = sa.Column(sa.String(20), nullable=False, default='pending')
    # Glance's column; sharing onwards is not implemented by either.
    can_share = sa.Column(sa.Boolean, nullable=False, default=False)
