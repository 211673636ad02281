"""Images: show and list, create, metadata and tag changes, status changes, delete.

api/v2/images.py, api/v2/image_data.py and api/v2/members.py call these with a
RequestContext first; each is one short reader or writer block of Core statements on
db/api.py's main_context_manager, and returns plain dicts (db/records.py).
"""

import json

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import query as image_query
from imageapi.db import records


@db_api.main_context_manager.reader.connection
def image_get(context, image_id):
    """The visible, undeleted image ``image_id`` as a dict.

    :raises ImageNotFound: missing, deleted, not visible, or not a UUID.
    """
    row = records.get_visible(context, context.connection, image_id)
    return records.to_dicts(context.connection, [row])[0]


@db_api.main_context_manager.reader.connection
def image_get_all(context, filters=None, marker=None, limit=None,
                  sort_keys=('created_at',), sort_dirs=('desc',)):
    """Visible images matching ``filters``, one page after ``marker``.

    :param filters: dict as built by api/v2/images.py (see db/query.py).
    :raises MarkerNotFound: the marker is not a visible image.
    """
    marker_row = None
    if marker is not None:
        marker_row = records.select_visible(context, context.connection,
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
    return records.to_dicts(context.connection,
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


def _add_properties(connection, image_id, properties, now):
    if properties:
        connection.execute(
            image_query.PROPERTIES.insert(),
            [{'image_id': image_id, 'name': name, 'value': value,
              'created_at': now} for name, value in properties.items()])


def _add_tags(connection, image_id, tags, now):
    if tags:
        connection.execute(
            image_query.TAGS.insert(),
            [{'image_id': image_id, 'value': tag, 'created_at': now}
             for tag in tags])


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def image_create(context, values):
    """Insert a queued image; ``values`` holds core fields, properties, tags.

    :raises Duplicate: the id is taken, even by a deleted image.
    """
    image_id = values.get('id') or uuidutils.generate_uuid()
    now = timeutils.utcnow()
    row = {key: values[key] for key in db_api.CORE_FIELDS if key in values}
    row.update(id=image_id, status=db_api.QUEUED, created_at=now,
               updated_at=now, visibility=values.get('visibility') or 'shared')
    connection = context.session.connection()
    try:
        connection.execute(image_query.IMAGES.insert(), row)
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate(image_id=image_id)
    _add_properties(connection, image_id, values.get('properties') or {}, now)
    _add_tags(connection, image_id,
              list(dict.fromkeys(values.get('tags') or ())), now)
    return records.reread(context, image_id)


def _set_properties(connection, image_id, properties, removed, now):
    """Set the properties named in ``properties``, delete those in ``removed``.

    A name in both ends up removed. Other properties are not touched, so
    updates of different names do not undo each other.
    """
    table = image_query.PROPERTIES
    removed = set(removed)
    if removed:
        connection.execute(table.delete().where(
            table.c.image_id == image_id, table.c.name.in_(sorted(removed))))
    properties = {name: value for name, value in properties.items()
                  if name not in removed}
    if not properties:
        return
    current = dict(connection.execute(
        sa.select(table.c.name, table.c.value).where(
            table.c.image_id == image_id,
            table.c.name.in_(list(properties)))).all())
    changed = [{'b_name': name, 'b_value': value}
               for name, value in properties.items()
               if name in current and current[name] != value]
    if changed:
        connection.execute(
            table.update().where(table.c.image_id == image_id,
                                 table.c.name == sa.bindparam('b_name'))
            .values(value=sa.bindparam('b_value'), updated_at=now),
            changed)
    _add_properties(connection, image_id,
                    {name: value for name, value in properties.items()
                     if name not in current}, now)


def _set_tags(connection, image_id, tags, now):
    """Make ``tags`` the image's whole tag list."""
    table = image_query.TAGS
    tags = list(dict.fromkeys(tags))
    connection.execute(table.delete().where(table.c.image_id == image_id,
                                            table.c.value.not_in(tags)))
    current = set(connection.execute(sa.select(table.c.value).where(
        table.c.image_id == image_id)).scalars())
    _add_tags(connection, image_id, [t for t in tags if t not in current],
              now)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def image_update(context, image_id, values, properties=None, removed=(),
                 tags=None, property_quota=-1, tag_quota=-1):
    """Change core fields, some extra properties and the tag list.

    Only the properties named in ``properties`` (set) and ``removed``
    (deleted) change, so concurrent PATCHes of different keys both land.
    A new owner takes the image's storage usage along, in this transaction.

    :param values: CORE_FIELDS to set.
    :param tags: the complete new tag list, or None to leave tags alone.
    :param property_quota: most extra properties the image may end up
        with when properties are added; -1 for no limit.
    :param tag_quota: most tags the new tag list may have; -1: no limit.
    :raises ImageNotFound: missing, deleted or not visible.
    :raises LimitExceeded: a quota would be passed; nothing changes.
    """
    now = timeutils.utcnow()
    table = image_query.IMAGES
    connection = context.session.connection()
    before = None
    if 'owner' in values:
        # Locked before the UPDATE: the owner it replaces, and the bytes
        # that owner is charged for, as the last writer committed them.
        before = records.lock_image(connection, image_id)
    # The images row first: concurrent updates of one image then queue on
    # its row lock before they read its properties and tags (on MySQL the
    # first read fixes the transaction's snapshot).
    result = connection.execute(
        table.update().where(table.c.id == image_id,
                             table.c.deleted == sa.false())
        .values(updated_at=now, **{key: values[key]
                                   for key in db_api.CORE_FIELDS
                                   if key in values}))
    if result.rowcount != 1:
        raise exception.ImageNotFound(image_id=image_id)
    if before is not None and before.owner != values['owner']:
        _move_usage(context, before, values['owner'])
    _set_properties(connection, image_id, properties or {}, removed, now)
    if properties:
        # Counted here, with the row locked by the UPDATE above, so that
        # concurrent additions cannot pass the quota together.
        records.check_count(connection, image_query.PROPERTIES, image_id,
                            'properties', property_quota)
    if tags is not None:
        _set_tags(connection, image_id, tags, now)
        records.check_count(connection, image_query.TAGS, image_id, 'tags',
                            tag_quota)
    # Not visible to the caller: ImageNotFound rolls all of it back.
    return records.reread(context, image_id, check_visible=True)


def _move_usage(context, before, new_owner):
    """Charge the image's bytes to ``new_owner`` instead of the old one."""
    charged = (before.size or 0) + (before.upload_reserved or 0)
    if charged:
        records.usage_add(context, before.owner, -charged)
        records.usage_add(context, new_owner, charged)


def _touch(connection, image_id, now):
    table = image_query.IMAGES
    connection.execute(table.update().where(table.c.id == image_id)
                       .values(updated_at=now))


@db_api._writer
def image_tag_add(context, image_id, tag, quota=-1):
    """Add one tag (idempotent); returns the tag count after the change.

    :param quota: most tags the image may have; -1 for no limit.
    :raises ImageNotFound: missing, deleted or not visible.
    :raises LimitExceeded: the tag is new and the image has ``quota``.
    """
    connection = context.session.connection()
    # Concurrent adds to one image queue here, so the count below is exact.
    records.lock_image(connection, image_id)
    records.get_visible(context, connection, image_id)
    now = timeutils.utcnow()
    table = image_query.TAGS
    if records.insert_new(context, table, {'image_id': image_id,
                                           'value': tag, 'created_at': now}):
        _touch(connection, image_id, now)
        records.check_count(connection, table, image_id, 'tags', quota)
    # A locking read: on MySQL a plain one reads the snapshot of the first
    # read above, which misses an add of the same tag committed meanwhile.
    return len(connection.execute(
        sa.select(table.c.id).where(table.c.image_id == image_id)
        .with_for_update(read=True)).all())


@db_api._writer
def image_tag_delete(context, image_id, tag):
    """Remove one tag.

    :raises ImageNotFound: missing, deleted or not visible.
    :raises TagNotFound: the image has no such tag.
    """
    connection = context.session.connection()
    records.get_visible(context, connection, image_id)
    table = image_query.TAGS
    result = connection.execute(table.delete().where(
        table.c.image_id == image_id, table.c.value == tag))
    if result.rowcount == 0:
        raise exception.TagNotFound(tag=tag)
    _touch(connection, image_id, timeutils.utcnow())


def _check_transition(from_status, to_status):
    if (from_status, to_status) not in db_api.ALLOWED_TRANSITIONS:
        raise exception.InvalidStatusTransition(current=from_status,
                                                target=to_status)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
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
    if to_status == db_api.DELETED:
        values.update(deleted=True, deleted_at=values['updated_at'])
    table = image_query.IMAGES
    where = [table.c.id == image_id, table.c.status == from_status,
             table.c.deleted == sa.false()]
    if claim is not None:
        where.append(table.c.upload_claim == claim)
    connection = context.session.connection()
    result = connection.execute(table.update().where(*where).values(**values))
    if result.rowcount != 1:
        records.raise_unchanged(context, image_id, to_status)
    if location is not None:
        connection.execute(image_query.LOCATIONS.insert(), {
            'image_id': image_id, 'value': location['url'],
            'meta_data': json.dumps(location.get('metadata', {})),
            'status': 'active', 'created_at': values['updated_at']})
    return records.reread(context, image_id,
                          deleted=(to_status == db_api.DELETED),
                          check_visible=True)


@db_api._writer
def image_destroy(context, image_id):
    """Soft-delete an image from whatever status it is in.

    :returns: the image as it was, so the caller can delete its data.
    :raises ImageNotFound: missing, deleted or not visible.
    :raises ProtectedImageDelete: the image is protected.
    :raises Conflict: its status changed meanwhile; the caller may retry.
    """
    connection = context.session.connection()
    # Locked first: an upload reserving or finishing, or an owner change,
    # waits for this delete, so what it subtracts is what was charged.
    records.lock_image(connection, image_id)
    row = records.get_visible(context, connection, image_id)
    if row.protected:
        raise exception.ProtectedImageDelete(image_id=image_id)
    _check_transition(row.status, db_api.DELETED)
    before = records.to_dicts(connection, [row])[0]
    now = timeutils.utcnow()
    table = image_query.IMAGES
    result = connection.execute(
        table.update().where(table.c.id == image_id,
                             table.c.deleted == sa.false(),
                             table.c.status == row.status)
        .values(status=db_api.DELETED, deleted=True, deleted_at=now,
                updated_at=now, upload_claim=None))
    if result.rowcount != 1:
        # Raced with another change of status; let the caller retry.
        raise exception.Conflict(
            reason='Image %s changed while being deleted.' % image_id)
    locations = image_query.LOCATIONS
    connection.execute(
        locations.update().where(locations.c.image_id == image_id)
        .values(status=db_api.DELETED))
    records.usage_add(context, row.owner,
                      -((row.size or 0) + (row.upload_reserved or 0)))
    return before


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def image_location_delete(context, image_id, store_id):
    """Drop the location of an active image in store ``store_id``.

    :returns: the location dict removed, so the caller can delete its data.
    :raises ImageNotFound: missing, deleted or not visible.
    :raises Conflict: the image is not active, or that is its last
        location.
    :raises StoredDataNotFound: the image has no location in that store.
    """
    connection = context.session.connection()
    records.lock_image(connection, image_id)
    row = records.get_visible(context, connection, image_id)
    image = records.to_dicts(connection, [row])[0]
    if image['status'] != db_api.ACTIVE:
        raise exception.Conflict(
            reason="It's not allowed to remove image data from store if "
                   "image status is not 'active'")
    found = [loc for loc in image['locations']
             if loc['metadata'].get('store') == store_id]
    if not found:
        raise exception.StoredDataNotFound(
            location='store %s of image %s' % (store_id, image_id))
    if len(image['locations']) == 1:
        raise exception.Conflict(
            reason='Cannot delete the last location of image %s.'
                   % image_id)
    locations = image_query.LOCATIONS
    connection.execute(
        locations.update().where(locations.c.image_id == image_id,
                                 locations.c.value == found[0]['url'],
                                 locations.c.status != db_api.DELETED)
        .values(status=db_api.DELETED))
    _touch(connection, image_id, timeutils.utcnow())
    return found[0]


# ---------------------------------------------------------------- usage
#
# What keystone's unified limits count (glance/db/sqlalchemy/api.py
# user_get_*): images a project owns, and those it is uploading, staging or
# importing, as Glance counts them.

UPLOADING_STATUSES = (db_api.SAVING, db_api.UPLOADING, db_api.IMPORTING)


@db_api.main_context_manager.reader
def image_count(context, owner, statuses=None):
    """Undeleted images of ``owner`` (killed ones aside), or those in ``statuses``."""
    images = image_query.IMAGES
    where = [images.c.owner == owner, images.c.deleted == sa.false()]
    if statuses is None:
        where.append(images.c.status.notin_((db_api.KILLED, db_api.DELETED)))
    else:
        where.append(images.c.status.in_(statuses))
    return context.session.connection().execute(
        sa.select(sa.func.count()).select_from(images).where(*where)
    ).scalar()
