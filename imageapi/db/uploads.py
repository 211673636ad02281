"""Upload claims, their leases, and the storage usage counter they keep in step.

api/v2/image_data.py claims, reserves, finishes and releases uploads;
api/v2/upload_leases.py renews leases and reaps expired ones; api/v2/limits.py reads
the usage. Each is one short reader or writer block of Core statements on db/api.py's
main_context_manager.

An upload claims the image (queued -> saving) under a random claim id with a lease; the
process streaming the bytes renews the lease, and any process may reap a claim whose
lease ran out (saving -> queued). Every step checks the claim id, so a reaped upload
can never activate the image later.
"""

from oslo_db import api as oslo_db_api
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import query as image_query
from imageapi.db import records


@db_api.main_context_manager.reader
def storage_used(context, owner):
    """Bytes ``owner`` uses or has reserved, from the usage counter."""
    table = image_query.USAGE
    used = context.session.connection().execute(
        sa.select(table.c.used).where(
            table.c.owner == records.usage_key(owner))).scalar()
    return used or 0


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def upload_claim(context, image_id, claim, expires_at, status=db_api.SAVING):
    """queued -> ``status`` under ``claim``, valid until ``expires_at``.

    :param status: saving for an upload, uploading for a stage.
    """
    return db_images.image_transition(
        context, image_id, db_api.QUEUED, status,
        values={'upload_claim': claim, 'upload_expires_at': expires_at,
                'upload_reserved': 0})


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def upload_reserve(context, image_id, claim, delta, quota,
                   status=db_api.SAVING):
    """Reserve ``delta`` more bytes of the image owner's ``quota``.

    Charged to whoever owns the image now (an admin may change the owner
    while the bytes move; image_update then moves the reservation along).

    :raises StorageQuotaFull: the reservation would pass the quota.
    :raises ImageNotFound: the image is gone.
    :raises InvalidStatusTransition: the claim is no longer held.
    """
    images = image_query.IMAGES
    connection = context.session.connection()
    held = connection.execute(
        images.update().where(images.c.id == image_id,
                              images.c.status == status,
                              images.c.upload_claim == claim)
        .values(upload_reserved=images.c.upload_reserved + delta))
    if held.rowcount != 1:
        records.raise_unchanged(context, image_id, status)
    owner = records.lock_image(connection, image_id).owner
    if not records.usage_add(context, owner, delta, quota):
        used = storage_used(context, owner)
        raise exception.StorageQuotaFull(quota=quota, used=used)


@db_api._writer
def upload_renew(context, claims, expires_at):
    """Extend the leases of ``claims``; returns how many are still held."""
    if not claims:
        return 0
    images = image_query.IMAGES
    result = context.session.connection().execute(
        images.update().where(images.c.upload_claim.in_(list(claims)),
                              images.c.status.in_((db_api.SAVING,
                                                   db_api.UPLOADING)))
        .values(upload_expires_at=expires_at))
    return result.rowcount


def held_reservation(context, image_id, claim, status=db_api.SAVING):
    # A locking read: an owner change or a delete of the image committed
    # meanwhile is seen, and none can slip in before this transaction ends.
    images = image_query.IMAGES
    row = context.session.connection().execute(
        sa.select(images.c.owner, images.c.upload_reserved).where(
            images.c.id == image_id, images.c.upload_claim == claim,
            images.c.status == status).with_for_update()).first()
    return (row.owner, row.upload_reserved) if row else (None, 0)


CLEARED = {'upload_claim': None, 'upload_expires_at': None,
           'upload_reserved': 0}


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def upload_finish(context, image_id, claim, values):
    """saving -> active with the stored data's size, hashes and location.

    The usage counter keeps the real size instead of the reservation.
    """
    owner, reserved = held_reservation(context, image_id, claim)
    image = db_images.image_transition(
        context, image_id, db_api.SAVING, db_api.ACTIVE,
        values=dict(values, **CLEARED), claim=claim)
    records.usage_add(context, owner, values['size'] - reserved)
    return image


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def upload_release(context, image_id, claim, status=db_api.SAVING):
    """``status`` -> queued: the upload, stage or import failed or lost its lease."""
    owner, reserved = held_reservation(context, image_id, claim, status)
    values = dict(CLEARED, size=None, virtual_size=None, checksum=None,
                  os_hash_algo=None, os_hash_value=None)
    image = db_images.image_transition(context, image_id, status,
                                       db_api.QUEUED, values=values,
                                       claim=claim)
    records.usage_add(context, owner, -reserved)
    return image


@db_api.main_context_manager.reader
def upload_expired(context, now):
    """(image_id, claim) of every upload whose lease ended before ``now``."""
    images = image_query.IMAGES
    rows = context.session.connection().execute(
        sa.select(images.c.id, images.c.upload_claim).where(
            images.c.status == db_api.SAVING, images.c.deleted == sa.false(),
            images.c.upload_expires_at < now))
    return [(row.id, row.upload_claim) for row in rows]
