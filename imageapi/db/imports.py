"""Staging and import: the image side of PUT .../stage and POST .../import, with their tasks.

api/v2/image_data.py stages (claims with db/uploads.py, then ``stage_finish``);
api/v2/images.py starts an import with ``import_start``; imageapi/importing/engine.py
ends it with ``import_finish`` or ``import_fail``; imageapi/leases.py reaps stages and
imports whose lease ran out. The import lock is the image property
``os_glance_import_task`` (Glance's), inserted under the unique (image_id, name) key.
Each function is one writer block; every status change a compare-and-swap.
"""

import datetime
import json

from oslo_db import api as oslo_db_api
from oslo_utils import timeutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import query as image_query
from imageapi.db import records
from imageapi.db import tasks as db_tasks
from imageapi.db import uploads as db_uploads

LOCK_KEY = 'os_glance_import_task'
IMPORTING_KEY = 'os_glance_importing_to_stores'
FAILED_KEY = 'os_glance_failed_import'

# Glance's: a lock older than this (twice for a pending task) may be broken.
LOCK_EXPIRY = datetime.timedelta(minutes=60)


def _props(connection, image_id, names):
    table = image_query.PROPERTIES
    return dict(connection.execute(
        sa.select(table.c.name, table.c.value).where(
            table.c.image_id == image_id, table.c.name.in_(names))).all())


def _set_prop(connection, image_id, name, value, now):
    """Set (or with value None, delete) one property."""
    table = image_query.PROPERTIES
    connection.execute(table.delete().where(table.c.image_id == image_id,
                                            table.c.name == name))
    if value is not None:
        connection.execute(table.insert(), {
            'image_id': image_id, 'name': name, 'value': value,
            'created_at': now})


def _store_list(value):
    return [s for s in (value or '').split(',') if s]


def _join(stores):
    return ','.join(dict.fromkeys(stores)) or None


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def stage_finish(context, image_id, claim, size):
    """The staged data is complete: the image stays uploading, unclaimed.

    The staged bytes stay reserved on the image (they count against the
    owner's storage until the import ends). The size stays unset: usage
    counts ``size`` of images with data and ``upload_reserved`` of the
    others (db/images.py image_destroy).

    :raises ImageNotFound: deleted meanwhile.
    :raises InvalidStatusTransition: the claim is no longer held (reaped).
    """
    images = image_query.IMAGES
    connection = context.session.connection()
    now = timeutils.utcnow()
    owner, reserved = db_uploads.held_reservation(context, image_id, claim,
                                                  db_api.UPLOADING)
    result = connection.execute(
        images.update().where(images.c.id == image_id,
                              images.c.status == db_api.UPLOADING,
                              images.c.upload_claim == claim,
                              images.c.deleted == sa.false())
        .values(upload_claim=None, upload_expires_at=None,
                upload_reserved=size, updated_at=now))
    if result.rowcount != 1:
        records.raise_unchanged(context, image_id, db_api.UPLOADING)
    # Reserved ahead in steps while streaming: keep what was staged.
    records.usage_add(context, owner, size - reserved)
    return records.reread(context, image_id)


@db_api.main_context_manager.reader
def stage_expired(context, now):
    """(image_id, claim) of every stage whose lease ended before ``now``."""
    images = image_query.IMAGES
    rows = context.session.connection().execute(
        sa.select(images.c.id, images.c.upload_claim).where(
            images.c.status == db_api.UPLOADING,
            images.c.deleted == sa.false(),
            images.c.upload_claim.isnot(None),
            images.c.upload_expires_at < now))
    return [(row.id, row.upload_claim) for row in rows]


@db_api.main_context_manager.reader
def staged_bytes(context, owner):
    """Bytes ``owner`` has staged or reserved for imports (image_stage_total)."""
    images = image_query.IMAGES
    return context.session.connection().execute(
        sa.select(sa.func.coalesce(sa.func.sum(images.c.upload_reserved), 0))
        .where(images.c.owner == owner, images.c.deleted == sa.false(),
               images.c.status.in_((db_api.UPLOADING, db_api.IMPORTING)))
    ).scalar()


@db_api.main_context_manager.reader
def staging_in_use(context, image_ids):
    """Which of ``image_ids`` may have staged data in use.

    Uploading and importing images, and any image under an import lock
    (copy-image stages the data of an active one); the staged data of the
    others is residue.
    """
    if not image_ids:
        return set()
    images = image_query.IMAGES
    props = image_query.PROPERTIES
    locked = sa.select(props.c.image_id).where(
        props.c.name == LOCK_KEY, props.c.image_id.in_(list(image_ids)))
    rows = context.session.connection().execute(
        sa.select(images.c.id).where(
            images.c.id.in_(list(image_ids)), images.c.deleted == sa.false(),
            sa.or_(images.c.status.in_((db_api.UPLOADING,
                                        db_api.IMPORTING)),
                   images.c.id.in_(locked))))
    return {row.id for row in rows}


@db_api.main_context_manager.reader
def import_lock_holder(context, image_id):
    """The task holding the import lock of ``image_id`` (a dict), '' if gone, None if unlocked."""
    connection = context.session.connection()
    task_id = _props(connection, image_id, [LOCK_KEY]).get(LOCK_KEY)
    if task_id is None:
        return None
    try:
        return dict(db_tasks._get(context, task_id, visible=False),
                    raw_updated_at=connection.execute(
                        sa.select(db_tasks.TASKS.c.updated_at).where(
                            db_tasks.TASKS.c.id == task_id)).scalar())
    except exception.TaskNotFound:
        return {'id': task_id, 'status': None, 'raw_updated_at': None}


def lock_is_stale(holder, now):
    """Glance's rule: a lock whose task is gone, or is older than LOCK_EXPIRY."""
    if holder.get('status') is None:
        return True
    expiry = LOCK_EXPIRY * (2 if holder['status'] == db_tasks.PENDING else 1)
    return now - holder['raw_updated_at'] >= expiry


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def import_lock_break(context, image_id, task_id):
    """Remove a stale lock held by ``task_id``, and that task's progress.

    :returns: True if this call removed it.
    """
    connection = context.session.connection()
    table = image_query.PROPERTIES
    result = connection.execute(table.delete().where(
        table.c.image_id == image_id, table.c.name == LOCK_KEY,
        table.c.value == task_id))
    if result.rowcount != 1:
        return False
    tasks = db_tasks.TASKS
    row = connection.execute(sa.select(tasks.c.input).where(
        tasks.c.id == task_id)).first()
    stores = (json.loads(row.input or '{}').get('backend') or []
              if row else [])
    _move_stores(connection, image_id, [s for s in stores if s], None,
                 timeutils.utcnow())
    return True


def _move_stores(connection, image_id, stores, to_key, now):
    """Take ``stores`` out of the importing list, and into ``to_key``'s."""
    props = _props(connection, image_id, [IMPORTING_KEY, FAILED_KEY])
    importing = [s for s in _store_list(props.get(IMPORTING_KEY))
                 if s not in stores]
    _set_prop(connection, image_id, IMPORTING_KEY, ','.join(importing)
              if IMPORTING_KEY in props else None, now)
    if to_key == FAILED_KEY:
        failed = _store_list(props.get(FAILED_KEY)) + list(stores)
        _set_prop(connection, image_id, FAILED_KEY, _join(failed) or '',
                  now)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def import_start(context, image_id, from_status, task_values, stores,
                 lease_expires_at):
    """Lock the image for an import, create its task, mark it importing.

    :param from_status: the status the image must be in; importing is set
        unless it is active (copy-image, which leaves the status alone).
    :param stores: the target store ids ([None] for the single store).
    :returns: (task, image) as dicts.
    :raises Conflict: the image holds an import lock ('Image has active
        task'); the caller may check it for staleness and try again.
    :raises InvalidStatusTransition: the image left ``from_status``.
    """
    connection = context.session.connection()
    records.lock_image(connection, image_id)
    row = records.get_visible(context, connection, image_id)
    if from_status == db_api.UPLOADING and row.upload_claim is not None:
        # Uploading, but the stage is still streaming: nothing to import.
        raise exception.Conflict(
            message="Image needs to be staged before 'glance-direct' "
                    "method can be used")
    task = db_tasks.task_create(context, dict(
        task_values, status=db_tasks.PROCESSING,
        lease_expires_at=lease_expires_at))
    if not records.insert_new(context, image_query.PROPERTIES, {
            'image_id': image_id, 'name': LOCK_KEY, 'value': task['id'],
            'created_at': timeutils.utcnow()}):
        raise exception.Conflict(reason='Image has active task')
    if from_status == db_api.ACTIVE:
        # copy-image: the status stays, but must still be active.
        current = records.lock_image(connection, image_id).status
        if current != db_api.ACTIVE:
            raise exception.InvalidStatusTransition(current=current,
                                                    target=db_api.ACTIVE)
    else:
        db_images.image_transition(
            context, image_id, from_status, db_api.IMPORTING,
            values={'upload_claim': task['id'], 'upload_expires_at': None},
            claim=None)
    now = timeutils.utcnow()
    named = [s for s in stores if s]
    props = _props(connection, image_id, [IMPORTING_KEY, FAILED_KEY])
    _set_prop(connection, image_id, IMPORTING_KEY,
              _join(_store_list(props.get(IMPORTING_KEY)) + named) or '',
              now)
    if FAILED_KEY in props or named:
        _set_prop(connection, image_id, FAILED_KEY, ','.join(
            s for s in _store_list(props.get(FAILED_KEY))
            if s not in named), now)
    return task, records.reread(context, image_id)


def _unlock(connection, image_id, task_id):
    table = image_query.PROPERTIES
    connection.execute(table.delete().where(
        table.c.image_id == image_id, table.c.name == LOCK_KEY,
        table.c.value == task_id))


def _add_location(connection, image_id, location, now):
    connection.execute(image_query.LOCATIONS.insert(), {
        'image_id': image_id, 'value': location['url'],
        'meta_data': json.dumps(location.get('metadata', {})),
        'status': 'active', 'created_at': now})


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def import_finish(context, image_id, task_id, values, locations, done,
                  failed, ttl_hours, properties=None):
    """The data is in the stores: active (or still active), unlocked, task success.

    :param values: size, hashes and the formats a plugin changed; empty for
        copy-image, whose image stays as it is.
    :param locations: location dicts (url, metadata) to add.
    :param done: store ids written; ``failed``: store ids that failed.
    :param properties: image properties to set (from the source, plugins).
    :raises ImageNotFound: the image was deleted meanwhile.
    :raises InvalidTaskStatusTransition: the task was reaped meanwhile.
    """
    connection = context.session.connection()
    before = records.lock_image(connection, image_id)
    if before is None:
        raise exception.ImageNotFound(image_id=image_id)
    now = timeutils.utcnow()
    db_tasks.task_transition(context, task_id, db_tasks.PROCESSING,
                             db_tasks.SUCCESS,
                             values={'result': {'image_id': image_id},
                                     'message': ''},
                             ttl_hours=ttl_hours)
    if before.status == db_api.IMPORTING:
        owner, reserved = db_uploads.held_reservation(
            context, image_id, task_id, db_api.IMPORTING)
        db_images.image_transition(
            context, image_id, db_api.IMPORTING, db_api.ACTIVE,
            values=dict(values, **db_uploads.CLEARED), claim=task_id)
        records.usage_add(context, owner, values['size'] - reserved)
    elif before.status != db_api.ACTIVE:
        raise exception.InvalidStatusTransition(current=before.status,
                                                target=db_api.ACTIVE)
    for location in locations:
        _add_location(connection, image_id, location, now)
    for name, value in (properties or {}).items():
        _set_prop(connection, image_id, name, value, now)
    _move_stores(connection, image_id, [s for s in done if s], None, now)
    if failed:
        _move_stores(connection, image_id, failed, FAILED_KEY, now)
    _unlock(connection, image_id, task_id)
    return records.reread(context, image_id)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def import_fail(context, task_id, message, ttl_hours, lease=None):
    """Fail task ``task_id`` and put its image back to an importable status.

    An importing image goes back to queued, its reservation released (the
    staged data is removed by the caller, as Glance's staging cleaner
    does); an active one (copy-image) stays active. The lock goes, the
    target stores move from importing to failed.

    :param lease: the reaper's view of the expired lease: the task fails only
        if nobody renewed it meanwhile.
    :returns: the task as it was, or None when it had already finished or
        was renewed (nothing changed).
    """
    connection = context.session.connection()
    tasks = db_tasks.TASKS
    row = connection.execute(sa.select(tasks).where(
        tasks.c.id == task_id)).mappings().first()
    if row is None or row['status'] in db_tasks.FINISHED:
        return None
    try:
        db_tasks.task_transition(context, task_id, row['status'],
                                 db_tasks.FAILURE,
                                 values={'message': message},
                                 ttl_hours=ttl_hours, lease=lease)
    except exception.InvalidTaskStatusTransition:
        return None
    task = db_tasks.task_dict(row)
    image_id = row['image_id']
    if image_id is None or records.lock_image(connection,
                                              image_id) is None:
        return task  # the image was deleted: nothing to put back
    images = image_query.IMAGES
    image = connection.execute(sa.select(images.c.status,
                                         images.c.upload_claim).where(
        images.c.id == image_id)).first()
    if image.status == db_api.IMPORTING and image.upload_claim == task_id:
        db_uploads.upload_release(context, image_id, task_id,
                                  db_api.IMPORTING)
    now = timeutils.utcnow()
    stores = [s for s in (task['input'] or {}).get('backend') or [] if s]
    _move_stores(connection, image_id, stores, FAILED_KEY, now)
    _unlock(connection, image_id, task_id)
    return task
