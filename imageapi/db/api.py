"""The image repository: every query and transaction of imageapi lives here.

Controllers call these functions with a RequestContext first; each one is a single short
reader or writer block and returns plain dicts, never ORM objects. Status changes are
compare-and-swap UPDATEs checked against ALLOWED_TRANSITIONS.
"""

import collections
import functools
import json
import threading

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import models
from imageapi.db import query as image_query
from imageapi.db import sqlite

QUEUED = 'queued'
SAVING = 'saving'
ACTIVE = 'active'
KILLED = 'killed'
DELETED = 'deleted'
DEACTIVATED = 'deactivated'
UPLOADING = 'uploading'
IMPORTING = 'importing'
PENDING_DELETE = 'pending_delete'

STATUSES = (QUEUED, SAVING, ACTIVE, KILLED, DELETED, DEACTIVATED, UPLOADING,
            IMPORTING, PENDING_DELETE)

# (from, to) pairs a status change may make; Glance's table, less `killed`,
# which v2 never sets.
ALLOWED_TRANSITIONS = frozenset([
    (QUEUED, SAVING), (QUEUED, UPLOADING), (QUEUED, IMPORTING),
    (QUEUED, ACTIVE), (QUEUED, DELETED),
    (SAVING, ACTIVE), (SAVING, QUEUED), (SAVING, DELETED),
    (UPLOADING, IMPORTING), (UPLOADING, QUEUED), (UPLOADING, DELETED),
    (IMPORTING, ACTIVE), (IMPORTING, QUEUED), (IMPORTING, DELETED),
    (ACTIVE, DEACTIVATED), (ACTIVE, DELETED), (ACTIVE, PENDING_DELETE),
    (DEACTIVATED, ACTIVE), (DEACTIVATED, DELETED),
    (PENDING_DELETE, DELETED), (PENDING_DELETE, ACTIVE),
    (KILLED, DELETED),
])

# Columns a caller may set through image_create/image_update; the rest
# (status, size, hashes, claim) change only through image_transition.
CORE_FIELDS = ('name', 'disk_format', 'container_format', 'visibility',
               'min_disk', 'min_ram', 'owner', 'protected', 'os_hidden')
RESULT_FIELDS = ('size', 'virtual_size', 'checksum', 'os_hash_algo',
                 'os_hash_value')

main_context_manager = enginefacade.transaction_context()
_CONFIGURE_LOCK = threading.Lock()
_configured = False


def _writer(fn):
    """main_context_manager.writer, for a writer on SQLite too (db/sqlite.py)."""
    inner = main_context_manager.writer(fn)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with sqlite.writing():
            return inner(*args, **kwargs)
    return wrapped


def configure(conf):
    """Configure the global transaction context from [database], once."""
    global _configured
    with _CONFIGURE_LOCK:
        if _configured:
            return
        options = {k: v for k, v in conf.database.items()
                   if k in ('connection', 'slave_connection',
                            'sqlite_synchronous', 'max_pool_size',
                            'max_overflow', 'pool_timeout', 'max_retries',
                            'retry_interval', 'connection_recycle_time',
                            'connection_debug', 'connection_trace',
                            'mysql_sql_mode', 'connection_parameters')}
        # oslo.db's sleep(0) at every connection check-in is for eventlet;
        # with real threads it only adds a scheduler round trip.
        main_context_manager.configure(thread_checkin=False, **options)
        # Called with each engine oslo.db makes, before its first session.
        main_context_manager.append_on_engine_create(
            functools.partial(
                sqlite.pool_file_engine,
                pool_size=conf.database.max_pool_size,
                max_overflow=conf.database.max_overflow,
                timeout=conf.database.pool_timeout,
                recycle=conf.database.connection_recycle_time,
                synchronous=conf.database.sqlite_synchronous))
        _configured = True


def get_engine():
    return main_context_manager.writer.get_engine()


# ---------------------------------------------------------------- records

def _format_time(value):
    # isoformat is strftime('%Y-%m-%dT%H:%M:%S') at a fraction of the cost.
    return value.isoformat(timespec='seconds') + 'Z' if value else None


_SCALARS = ('id', 'name', 'disk_format', 'container_format', 'size',
            'virtual_size', 'status', 'visibility', 'checksum', 'os_hash_algo',
            'os_hash_value', 'min_disk', 'min_ram', 'owner', 'protected',
            'os_hidden', 'deleted', 'upload_claim')
_COLUMN_NAMES = tuple(column.name for column in image_query.IMAGE_COLUMNS)
_ID_INDEX = _COLUMN_NAMES.index('id')


def _record(values, properties, tags, locations):
    """An images row, as a dict of its columns, and its children as a dict."""
    result = {c: values[c] for c in _SCALARS}
    result['created_at'] = _format_time(values['created_at'])
    result['updated_at'] = _format_time(values['updated_at']
                                        or values['created_at'])
    result['deleted_at'] = _format_time(values['deleted_at'])
    result['upload_expires_at'] = values['upload_expires_at']
    result['properties'] = properties
    result['tags'] = sorted(tags)
    result['locations'] = [
        {'url': value, 'metadata': json.loads(meta or '{}'), 'status': status}
        for _id, value, meta, status in sorted(locations)
        if status != DELETED]
    return result


def _to_dict(image):
    """An Image ORM object, with its loaded relationships, as a dict."""
    values = {name: getattr(image, name) for name in _COLUMN_NAMES}
    return _record(values, {p.name: p.value for p in image.properties},
                   [t.value for t in image.tags],
                   [(loc.id, loc.value, loc.meta_data, loc.status)
                    for loc in image.locations])


def _to_dicts(connection, rows):
    """Core image rows as dicts, their children loaded by one more query.

    The read path (show, list) runs here; building ORM objects and their
    relationships cost more than the queries themselves.
    """
    if not rows:
        return []
    props = collections.defaultdict(dict)
    tags = collections.defaultdict(list)
    locations = collections.defaultdict(list)
    ids = [row[_ID_INDEX] for row in rows]
    if len(ids) == 1:
        children = connection.execute(image_query.SELECT_ONE_CHILDREN, {'ids': ids[0]})
    else:
        children = connection.execute(image_query.SELECT_CHILDREN, {'ids': ids})
    for image_id, kind, a, b, c, loc_id in children.all():
        if kind == 'p':
            props[image_id][a] = b
        elif kind == 't':
            tags[image_id].append(a)
        else:
            locations[image_id].append((loc_id, a, b, c))
    records = []
    for row in rows:
        values = dict(zip(_COLUMN_NAMES, row))
        image_id = values['id']
        records.append(_record(values, props[image_id], tags[image_id],
                               locations[image_id]))
    return records


def _reread(context, image_id, deleted=False, check_visible=False):
    """The image as this writer transaction sees it now, as a dict.

    :raises ImageNotFound: ``check_visible`` and the caller may not see it
        (the transaction then rolls back).
    """
    connection = context.session.connection()
    if check_visible:
        row = _select_visible(context, connection, image_id, deleted)
        if row is None:
            raise exception.ImageNotFound(image_id=image_id)
    else:
        row = connection.execute(
            image_query.SELECT_ANY_IMAGE if deleted else image_query.SELECT_IMAGE,
            {'image_id': image_id}).one()
    return _to_dicts(connection, [row])[0]


def _get_row(context, image_id, deleted=False):
    if not uuidutils.is_uuid_like(image_id):
        raise exception.ImageNotFound(image_id=image_id)
    query = context.session.query(models.Image)
    if not deleted:
        query = query.filter_by(deleted=False)
    row = image_query.visible(context, query).filter_by(
        id=image_id).one_or_none()
    if row is None:
        raise exception.ImageNotFound(image_id=image_id)
    return row


def _select_visible(context, connection, image_id, deleted=False):
    """The images row ``image_id`` if the caller may see it, else None."""
    params = {'image_id': image_id}
    if context.is_admin:
        statement = image_query.SELECT_ANY_IMAGE if deleted else image_query.SELECT_IMAGE
    else:
        statement = (image_query.SELECT_READABLE_ANY_IMAGE if deleted
                     else image_query.SELECT_READABLE_IMAGE)
        params['project_id'] = context.project_id
    return connection.execute(statement, params).one_or_none()


@main_context_manager.reader.connection
def image_get(context, image_id):
    """The visible, undeleted image ``image_id`` as a dict.

    :raises ImageNotFound: missing, deleted, not visible, or not a UUID.
    """
    row = None
    if uuidutils.is_uuid_like(image_id):
        row = _select_visible(context, context.connection, image_id)
    if row is None:
        raise exception.ImageNotFound(image_id=image_id)
    return _to_dicts(context.connection, [row])[0]


@main_context_manager.reader.connection
def image_get_all(context, filters=None, marker=None, limit=None,
                  sort_keys=('created_at',), sort_dirs=('desc',)):
    """Visible images matching ``filters``, one page after ``marker``.

    :param filters: dict as built by api/v2/images.py (see db/query.py).
    :raises MarkerNotFound: the marker is not a visible image.
    """
    marker_row = None
    if marker is not None:
        if uuidutils.is_uuid_like(marker):
            marker_row = _select_visible(context, context.connection,
                                         marker)
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker)
    if marker_row is not None:
        query = _list_statement(context, filters, marker_row, limit,
                                sort_keys, sort_dirs)
    else:
        # A first page depends on nothing but these: asked for again
        # (clients poll), its statement is reused.
        key = (context.is_admin, context.project_id,
               repr(sorted((filters or {}).items())), limit,
               tuple(sort_keys), tuple(sort_dirs))
        query = _LIST_STATEMENTS.get(key)
        if query is None:
            query = _list_statement(context, filters, None, limit,
                                    sort_keys, sort_dirs)
            _LIST_STATEMENTS.put(key, query)
    return _to_dicts(context.connection,
                     context.connection.execute(query).all())


def _list_statement(context, filters, marker_row, limit, sort_keys,
                    sort_dirs):
    query = image_query.visible(
        context, sa.select(*image_query.IMAGE_COLUMNS).where(
            image_query.IMAGES.c.deleted == sa.false()))
    query = image_query.apply_filters(context, query, filters or {})
    return image_query.paginate(query, marker_row, limit, list(sort_keys),
                                list(sort_dirs))


_LIST_STATEMENTS = image_query.StatementCache(256)


def _set_properties(image, properties):
    current = {p.name: p for p in image.properties}
    for name, value in properties.items():
        if name in current:
            current[name].value = value
        else:
            image.properties.append(
                models.ImageProperty(name=name, value=value))


def _set_tags(image, tags):
    current = {t.value: t for t in image.tags}
    for tag in tags:
        if tag not in current:
            image.tags.append(models.ImageTag(value=tag))
    for value, tag in current.items():
        if value not in tags:
            image.tags.remove(tag)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def image_create(context, values):
    """Insert a queued image; ``values`` holds core fields, properties, tags.

    :raises Duplicate: the id is taken, even by a deleted image.
    """
    image_id = values.get('id') or uuidutils.generate_uuid()
    now = timeutils.utcnow()
    row = {key: values[key] for key in CORE_FIELDS if key in values}
    row.update(id=image_id, status=QUEUED, created_at=now, updated_at=now,
               visibility=values.get('visibility') or 'shared')
    # Core inserts: the ORM unit of work and the lazy loads of the new
    # object's relationships cost more than the statements.
    connection = context.session.connection()
    try:
        connection.execute(image_query.IMAGES.insert(), row)
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate(image_id=image_id)
    properties = values.get('properties') or {}
    if properties:
        connection.execute(
            models.ImageProperty.__table__.insert(),
            [{'image_id': image_id, 'name': name, 'value': value,
              'created_at': now} for name, value in properties.items()])
    tags = list(dict.fromkeys(values.get('tags') or ()))
    if tags:
        connection.execute(
            models.ImageTag.__table__.insert(),
            [{'image_id': image_id, 'value': tag, 'created_at': now}
             for tag in tags])
    return _reread(context, image_id)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def image_update(context, image_id, values, properties=None, removed=(),
                 tags=None):
    """Change core fields, some extra properties and the tag list.

    Only the properties named in ``properties`` (set) and ``removed``
    (deleted) change, so concurrent PATCHes of different keys both land.

    :param values: CORE_FIELDS to set.
    :param tags: the complete new tag list, or None to leave tags alone.
    """
    image = _get_row(context, image_id)
    for key in CORE_FIELDS:
        if key in values:
            setattr(image, key, values[key])
    _set_properties(image, properties or {})
    for prop in [p for p in image.properties if p.name in set(removed)]:
        image.properties.remove(prop)
    if tags is not None:
        _set_tags(image, tags)
    image.updated_at = timeutils.utcnow()
    context.session.flush()
    return _reread(context, image_id)


@_writer
def image_tag_add(context, image_id, tag):
    """Add one tag (idempotent); returns the tag count after the change."""
    image = _get_row(context, image_id)
    if tag not in {t.value for t in image.tags}:
        image.tags.append(models.ImageTag(value=tag))
        image.updated_at = timeutils.utcnow()
    context.session.flush()
    return len(image.tags)


@_writer
def image_tag_delete(context, image_id, tag):
    """Remove one tag.

    :raises TagNotFound: the image has no such tag.
    """
    image = _get_row(context, image_id)
    for row in image.tags:
        if row.value == tag:
            image.tags.remove(row)
            image.updated_at = timeutils.utcnow()
            return
    raise exception.TagNotFound(tag=tag)


def _check_transition(from_status, to_status):
    if (from_status, to_status) not in ALLOWED_TRANSITIONS:
        raise exception.InvalidStatusTransition(current=from_status,
                                                target=to_status)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def image_transition(context, image_id, from_status, to_status, values=None,
                     claim=None):
    """Move an image from ``from_status`` to ``to_status`` atomically.

    One ``UPDATE ... WHERE id=:id AND status=:from`` (and, when ``claim`` is
    given, ``AND upload_claim=:claim``); ``values`` are set in the same
    statement. A ``location`` key in values adds a location row.

    :raises ImageNotFound: the image is gone (or not visible).
    :raises InvalidStatusTransition: it is no longer in ``from_status`` or the
        claim is not ours; the message names the current status.
    """
    _check_transition(from_status, to_status)
    values = dict(values or {})
    location = values.pop('location', None)
    values['status'] = to_status
    values['updated_at'] = timeutils.utcnow()
    if to_status == DELETED:
        values.update(deleted=True, deleted_at=values['updated_at'])
    table = models.Image.__table__
    where = [table.c.id == image_id, table.c.status == from_status,
             table.c.deleted == sa.false()]
    if claim is not None:
        where.append(table.c.upload_claim == claim)
    result = context.session.execute(
        table.update().where(*where).values(**values))
    if result.rowcount != 1:
        current = _get_row(context, image_id)
        raise exception.InvalidStatusTransition(current=current.status,
                                                target=to_status)
    if location is not None:
        context.session.add(models.ImageLocation(
            image_id=image_id, value=location['url'],
            meta_data=json.dumps(location.get('metadata', {})),
            status='active'))
    context.session.flush()
    return _reread(context, image_id, deleted=(to_status == DELETED),
                   check_visible=True)


@_writer
def image_destroy(context, image_id):
    """Soft-delete an image from whatever status it is in.

    :returns: the image as it was, so the caller can delete its data.
    :raises ProtectedImageDelete: the image is protected.
    """
    image = _get_row(context, image_id)
    if image.protected:
        raise exception.ProtectedImageDelete(image_id=image_id)
    before = _to_dict(image)
    now = timeutils.utcnow()
    table = models.Image.__table__
    result = context.session.execute(
        table.update().where(table.c.id == image_id,
                             table.c.deleted == sa.false(),
                             table.c.status == image.status)
        .values(status=DELETED, deleted=True, deleted_at=now,
                updated_at=now, upload_claim=None))
    if result.rowcount != 1:
        # Raced with another change of status; let the caller retry.
        raise exception.Conflict(
            reason='Image %s changed while being deleted.' % image_id)
    locations = models.ImageLocation.__table__
    context.session.execute(
        locations.update().where(locations.c.image_id == image_id)
        .values(status=DELETED))
    _usage_add(context.session, image.owner,
               -((image.size or 0) + (image.upload_reserved or 0)))
    return before


# ---------------------------------------------------------------- uploads
#
# An upload claims the image (queued -> saving) under a random claim id with
# a lease; the process streaming the bytes renews the lease, and any process
# may reap a claim whose lease ran out (saving -> queued). Every step checks
# the claim id, so a reaped upload can never activate the image later.

def _usage_key(owner):
    return owner or ''


def _usage_add(session, owner, delta, quota=None):
    """used += delta for ``owner``; with ``quota``, only if it stays within.

    :returns: True if the row changed.
    """
    if delta == 0 and quota is None:
        return True
    table = models.StorageUsage.__table__
    key = _usage_key(owner)
    exists = session.execute(
        sa.select(table.c.owner).where(table.c.owner == key)).first()
    if exists is None:
        try:
            with session.begin_nested():
                session.execute(table.insert().values(
                    owner=key, used=0, created_at=timeutils.utcnow()))
        except db_exc.DBDuplicateEntry:
            pass
    where = [table.c.owner == key]
    if quota is not None:
        where.append(table.c.used + delta <= quota)
    result = session.execute(table.update().where(*where).values(
        used=table.c.used + delta, updated_at=timeutils.utcnow()))
    return result.rowcount == 1


@main_context_manager.reader
def storage_used(context, owner):
    """Bytes ``owner`` uses or has reserved, from the usage counter."""
    table = models.StorageUsage.__table__
    used = context.session.execute(
        sa.select(table.c.used).where(
            table.c.owner == _usage_key(owner))).scalar()
    return used or 0


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def upload_claim(context, image_id, claim, expires_at):
    """queued -> saving under ``claim``, valid until ``expires_at``."""
    return image_transition(
        context, image_id, QUEUED, SAVING,
        values={'upload_claim': claim, 'upload_expires_at': expires_at,
                'upload_reserved': 0})


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def upload_reserve(context, image_id, claim, owner, delta, quota):
    """Reserve ``delta`` more bytes of ``owner``'s ``quota`` for an upload.

    :raises StorageQuotaFull: the reservation would pass the quota.
    :raises InvalidStatusTransition: the claim is no longer held.
    """
    images = models.Image.__table__
    held = context.session.execute(
        images.update().where(images.c.id == image_id,
                              images.c.status == SAVING,
                              images.c.upload_claim == claim)
        .values(upload_reserved=images.c.upload_reserved + delta))
    if held.rowcount != 1:
        current = _get_row(context, image_id)
        raise exception.InvalidStatusTransition(current=current.status,
                                                target=SAVING)
    if not _usage_add(context.session, owner, delta, quota):
        used = storage_used(context, owner)
        raise exception.StorageQuotaFull(quota=quota, used=used)


@_writer
def upload_renew(context, claims, expires_at):
    """Extend the leases of ``claims``; returns how many are still held."""
    if not claims:
        return 0
    images = models.Image.__table__
    result = context.session.execute(
        images.update().where(images.c.upload_claim.in_(list(claims)),
                              images.c.status == SAVING)
        .values(upload_expires_at=expires_at))
    return result.rowcount


def _held_reservation(context, image_id, claim):
    images = models.Image.__table__
    row = context.session.execute(
        sa.select(images.c.owner, images.c.upload_reserved).where(
            images.c.id == image_id, images.c.upload_claim == claim,
            images.c.status == SAVING)).first()
    return (row.owner, row.upload_reserved) if row else (None, 0)


_CLEARED = {'upload_claim': None, 'upload_expires_at': None,
            'upload_reserved': 0}


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def upload_finish(context, image_id, claim, values):
    """saving -> active with the stored data's size, hashes and location.

    The usage counter keeps the real size instead of the reservation.
    """
    owner, reserved = _held_reservation(context, image_id, claim)
    image = image_transition(context, image_id, SAVING, ACTIVE,
                             values=dict(values, **_CLEARED), claim=claim)
    _usage_add(context.session, owner, values['size'] - reserved)
    return image


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def upload_release(context, image_id, claim):
    """saving -> queued: the upload failed or its lease ran out."""
    owner, reserved = _held_reservation(context, image_id, claim)
    values = dict(_CLEARED, size=None, virtual_size=None, checksum=None,
                  os_hash_algo=None, os_hash_value=None)
    image = image_transition(context, image_id, SAVING, QUEUED,
                             values=values, claim=claim)
    _usage_add(context.session, owner, -reserved)
    return image


@main_context_manager.reader
def upload_expired(context, now):
    """(image_id, claim) of every upload whose lease ended before ``now``."""
    images = models.Image.__table__
    rows = context.session.execute(
        sa.select(images.c.id, images.c.upload_claim).where(
            images.c.status == SAVING, images.c.deleted == sa.false(),
            images.c.upload_expires_at < now))
    return [(row.id, row.upload_claim) for row in rows]


# ---------------------------------------------------------------- members
#
# Who may call these is the API's policy check; here, as in Glance's
# image_member_find, a caller that is neither admin nor the image owner only
# ever finds its own membership.

MEMBER_STATUSES = ('pending', 'accepted', 'rejected')


def _member_dict(row):
    return {'image_id': row.image_id, 'member_id': row.member,
            'status': row.status, 'created_at': _format_time(row.created_at),
            'updated_at': _format_time(row.updated_at or row.created_at)}


def _member_query(context, image_id):
    query = context.session.query(models.ImageMember).filter_by(
        image_id=image_id)
    if not context.is_admin:
        owner = context.session.query(models.Image.owner).filter_by(
            id=image_id).scalar()
        if owner is None or owner != context.project_id:
            query = query.filter(
                models.ImageMember.member == context.project_id)
    return query


@main_context_manager.reader
def image_member_find(context, image_id, member_id=None):
    """Members of an image the caller may see, oldest first.

    :param member_id: only this member (a list of at most one).
    """
    query = _member_query(context, image_id)
    if member_id is not None:
        query = query.filter(models.ImageMember.member == member_id)
    return [_member_dict(row) for row in
            query.order_by(models.ImageMember.id)]


@main_context_manager.reader
def image_member_get(context, image_id, member_id):
    """One member of an image.

    :raises MemberNotFound: no such member, or not one the caller may see.
    """
    found = image_member_find(context, image_id, member_id)
    if not found:
        raise exception.MemberNotFound(member_id=member_id,
                                       image_id=image_id)
    return found[0]


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def image_member_create(context, image_id, member_id, quota=-1):
    """Share an image with ``member_id``, status pending.

    :param quota: most members the image may have; -1 for no limit.
    :raises DuplicateMember: already a member.
    :raises LimitExceeded: the image has ``quota`` members already.
    """
    members = models.ImageMember
    if quota >= 0:
        count = context.session.query(sa.func.count(members.id)).filter(
            members.image_id == image_id).scalar()
        if count + 1 > quota:
            raise exception.LimitExceeded(
                reason='The limit has been exceeded on the number of '
                       'allowed image members for this image. Attempted: '
                       '%d, Maximum: %d' % (count + 1, quota))
    now = timeutils.utcnow()
    row = members(image_id=image_id, member=member_id, status='pending',
                  can_share=False, created_at=now, updated_at=now)
    context.session.add(row)
    try:
        context.session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.DuplicateMember(member_id=member_id,
                                        image_id=image_id)
    return _member_dict(row)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_writer
def image_member_update(context, image_id, member_id, status):
    """Set the status of one member.

    :raises MemberNotFound: see image_member_get.
    """
    row = _member_query(context, image_id).filter(
        models.ImageMember.member == member_id).one_or_none()
    if row is None:
        raise exception.MemberNotFound(member_id=member_id,
                                       image_id=image_id)
    row.status = status
    row.updated_at = timeutils.utcnow()
    context.session.flush()
    return _member_dict(row)


@_writer
def image_member_delete(context, image_id, member_id):
    """Stop sharing an image with ``member_id``.

    :raises MemberNotFound: see image_member_get.
    """
    deleted = _member_query(context, image_id).filter(
        models.ImageMember.member == member_id).delete(
            synchronize_session=False)
    if not deleted:
        raise exception.MemberNotFound(member_id=member_id,
                                       image_id=image_id)


# ---------------------------------------------------------------- usage
#
# What keystone's unified limits count (glance/db/sqlalchemy/api.py
# user_get_*): images a project owns, and those it is uploading.

UPLOADING_STATUSES = (SAVING, UPLOADING, IMPORTING)


@main_context_manager.reader
def image_count(context, owner, statuses=None):
    """Undeleted images of ``owner`` (killed ones aside), or those in ``statuses``."""
    images = models.Image.__table__
    where = [images.c.owner == owner, images.c.deleted == sa.false()]
    if statuses is None:
        where.append(images.c.status.notin_((KILLED, DELETED)))
    else:
        where.append(images.c.status.in_(statuses))
    return context.session.execute(
        sa.select(sa.func.count()).select_from(images).where(*where)
    ).scalar()
