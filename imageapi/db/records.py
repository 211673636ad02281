"""Rows the repository modules share: image rows read as dicts, the visible-row lookup
and the storage usage counter.

db/images.py, db/uploads.py and db/members.py call these inside their own reader or
writer blocks; nothing here opens a transaction.
"""

import collections
import json

from oslo_db import exception as db_exc
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import query as image_query


def format_time(value):
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
    result['created_at'] = format_time(values['created_at'])
    result['updated_at'] = format_time(values['updated_at']
                                       or values['created_at'])
    result['deleted_at'] = format_time(values['deleted_at'])
    result['upload_expires_at'] = values['upload_expires_at']
    result['properties'] = properties
    result['tags'] = sorted(tags)
    result['locations'] = [
        {'url': value, 'metadata': json.loads(meta or '{}'), 'status': status}
        for _id, value, meta, status in sorted(locations)
        if status != db_api.DELETED]
    return result


def to_dicts(connection, rows):
    """Image rows (all of IMAGE_COLUMNS) as dicts, their children loaded by one more query.

    Building ORM objects and their relationships cost more than the queries
    themselves; the repository reads only Core rows.
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


def select_visible(context, connection, image_id, deleted=False):
    """The images row ``image_id`` if the caller may see it, else None.

    :param deleted: find a deleted image too.
    """
    if not uuidutils.is_uuid_like(image_id):
        return None
    params = {'image_id': image_id}
    if context.is_admin:
        statement = image_query.SELECT_ANY_IMAGE if deleted else image_query.SELECT_IMAGE
    else:
        statement = (image_query.SELECT_READABLE_ANY_IMAGE if deleted
                     else image_query.SELECT_READABLE_IMAGE)
        params['project_id'] = context.project_id
    return connection.execute(statement, params).one_or_none()


def get_visible(context, connection, image_id):
    """The undeleted images row ``image_id``, which the caller may see.

    :raises ImageNotFound: missing, deleted, not visible, or not a UUID.
    """
    row = select_visible(context, connection, image_id)
    if row is None:
        raise exception.ImageNotFound(image_id=image_id)
    return row


def reread(context, image_id, deleted=False, check_visible=False):
    """The image as this writer transaction sees it now, as a dict.

    :raises ImageNotFound: ``check_visible`` and the caller may not see it
        (the transaction then rolls back).
    """
    connection = context.session.connection()
    if check_visible:
        row = select_visible(context, connection, image_id, deleted)
        if row is None:
            raise exception.ImageNotFound(image_id=image_id)
    else:
        row = connection.execute(
            image_query.SELECT_ANY_IMAGE if deleted else image_query.SELECT_IMAGE,
            {'image_id': image_id}).one()
    return to_dicts(connection, [row])[0]


def lock_image(connection, image_id):
    """Lock the images row ``image_id`` for this transaction; the row or None.

    ``SELECT ... FOR UPDATE``: writers that change what hangs off an image
    (its usage, its tags, properties and members counted against quotas)
    queue here, and read the row as the last one committed it. SQLite has
    no row locks; its writers queue on db/sqlite.py's lock instead.
    """
    images = image_query.IMAGES
    return connection.execute(
        sa.select(images.c.owner, images.c.size, images.c.upload_reserved,
                  images.c.status)
        .where(images.c.id == image_id, images.c.deleted == sa.false())
        .with_for_update()).first()


def check_count(connection, table, image_id, kind, quota):
    """Raise LimitExceeded if ``image_id`` has more than ``quota`` children.

    :param table: a child table: tags, properties or members.
    :param quota: the most rows allowed; -1 for no limit.
    """
    if quota < 0:
        return
    count = connection.execute(
        sa.select(sa.func.count()).select_from(table).where(
            table.c.image_id == image_id)).scalar()
    if count > quota:
        raise exception.LimitExceeded(
            reason='The limit has been exceeded on the number of allowed '
                   'image %s. Attempted: %d, Maximum: %d'
                   % (kind, count, quota))


def raise_unchanged(context, image_id, to_status):
    """After a compare-and-swap UPDATE of ``image_id`` matched no row: say why.

    :raises ImageNotFound: the image is gone or the caller may not see it.
    :raises InvalidStatusTransition: naming the status the image is in now.
    """
    row = get_visible(context, context.session.connection(), image_id)
    raise exception.InvalidStatusTransition(current=row.status,
                                            target=to_status)


def insert_new(context, table, values):
    """INSERT a row unless its unique key is taken already.

    In a savepoint: on PostgreSQL a failed statement would otherwise abort
    the whole writer transaction.

    :returns: True if this call inserted the row.
    """
    try:
        with context.session.begin_nested():
            context.session.connection().execute(table.insert(), values)
    except db_exc.DBDuplicateEntry:
        return False
    return True


# ---------------------------------------------------------------- usage
#
# Bytes each owner's images use or have reserved, changed in the writer
# block of the change that causes it: by uploads (db/uploads.py), by
# image_destroy and by an owner change in image_update (db/images.py), each
# after lock_image, so that the counter always equals the sizes and
# reservations of the owner's live images.

def usage_key(owner):
    return owner or ''


def usage_add(context, owner, delta, quota=None):
    """used += delta for ``owner``; with ``quota``, only if it stays within.

    :returns: True if the row changed.
    """
    if delta == 0 and quota is None:
        return True
    table = image_query.USAGE
    key = usage_key(owner)
    connection = context.session.connection()
    exists = connection.execute(
        sa.select(table.c.owner).where(table.c.owner == key)).first()
    if exists is None:
        insert_new(context, table, {'owner': key, 'used': 0,
                                    'created_at': timeutils.utcnow()})
    where = [table.c.owner == key]
    if quota is not None:
        where.append(table.c.used + delta <= quota)
    result = connection.execute(table.update().where(*where).values(
        used=table.c.used + delta, updated_at=timeutils.utcnow()))
    return result.rowcount == 1
