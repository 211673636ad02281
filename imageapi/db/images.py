"""Images: show and list, create, metadata and tag changes, status changes, delete.

api/v2/images.py, api/v2/image_data.py and api/v2/members.py call these with a
RequestContext first; each is one short reader or writer block on
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
from imageapi.db import models
from imageapi.db import query as image_query
from imageapi.db import records


@db_api.main_context_manager.reader.connection
def image_get(context, image_id):
    """The visible, undeleted image ``image_id`` as a dict.

    :raises ImageNotFound: missing, deleted, not visible, or not a UUID.
    """
    row = None
    if uuidutils.is_uuid_like(image_id):
        row = records.select_visible(context, context.connection, image_id)
    if row is None:
        raise exception.ImageNotFound(image_id=image_id)
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
        if uuidutils.is_uuid_like(marker):
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
@db_api._writer
def image_create(context, values):
    """Insert a queued image; ``values`` holds core fields, properties, tags.

    :raises Duplicate: the id is taken, even by a deleted image.
    """
    image_id = values.get('id') or uuidutils.generate_uuid()
    now = timeutils.utcnow()
    row = {key: values[key] for key in db_api.CORE_FIELDS if key in values}
    row.update(id=image_id, status=db_api.QUEUED, created_at=now, updated_at=now,
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
    return records.reread(context, image_id)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def image_update(context, image_id, values, properties=None, removed=(),
                 tags=None):
    """Change core fields, some extra properties and the tag list.

    Only the properties named in ``properties`` (set) and ``removed``
    (deleted) change, so concurrent PATCHes of different keys both land.

    :param values: db_api.CORE_FIELDS to set.
    :param tags: the complete new tag list, or None to leave tags alone.
    """
    image = records.get_row(context, image_id)
    for key in db_api.CORE_FIELDS:
        if key in values:
            setattr(image, key, values[key])
    _set_properties(image, properties or {})
    for prop in [p for p in image.properties if p.name in set(removed)]:
        image.properties.remove(prop)
    if tags is not None:
        _set_tags(image, tags)
    image.updated_at = timeutils.utcnow()
    context.session.flush()
    return records.reread(context, image_id)


@db_api._writer
def image_tag_add(context, image_id, tag):
    """Add one tag (idempotent); returns the tag count after the change."""
    image = records.get_row(context, image_id)
    if tag not in {t.value for t in image.tags}:
        image.tags.append(models.ImageTag(value=tag))
        image.updated_at = timeutils.utcnow()
    context.session.flush()
    return len(image.tags)


@db_api._writer
def image_tag_delete(context, image_id, tag):
    """Remove one tag.

    :raises TagNotFound: the image has no such tag.
    """
    image = records.get_row(context, image_id)
    for row in image.tags:
        if row.value == tag:
            image.tags.remove(row)
            image.updated_at = timeutils.utcnow()
            return
    raise exception.TagNotFound(tag=tag)


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
    table = models.Image.__table__
    where = [table.c.id == image_id, table.c.status == from_status,
             table.c.deleted == sa.false()]
    if claim is not None:
        where.append(table.c.upload_claim == claim)
    result = context.session.execute(
        table.update().where(*where).values(**values))
    if result.rowcount != 1:
        current = records.get_row(context, image_id)
        raise exception.InvalidStatusTransition(current=current.status,
                                                target=to_status)
    if location is not None:
        context.session.add(models.ImageLocation(
            image_id=image_id, value=location['url'],
            meta_data=json.dumps(location.get('metadata', {})),
            status='active'))
    context.session.flush()
    return records.reread(context, image_id,
                          deleted=(to_status == db_api.DELETED),
                          check_visible=True)


@db_api._writer
def image_destroy(context, image_id):
    """Soft-delete an image from whatever status it is in.

    :returns: the image as it was, so the caller can delete its data.
    :raises ProtectedImageDelete: the image is protected.
    """
    image = records.get_row(context, image_id)
    if image.protected:
        raise exception.ProtectedImageDelete(image_id=image_id)
    before = records.to_dict(image)
    now = timeutils.utcnow()
    table = models.Image.__table__
    result = context.session.execute(
        table.update().where(table.c.id == image_id,
                             table.c.deleted == sa.false(),
                             table.c.status == image.status)
        .values(status=db_api.DELETED, deleted=True, deleted_at=now,
                updated_at=now, upload_claim=None))
    if result.rowcount != 1:
        # Raced with another change of status; let the caller retry.
        raise exception.Conflict(
            reason='Image %s changed while being deleted.' % image_id)
    locations = models.ImageLocation.__table__
    context.session.execute(
        locations.update().where(locations.c.image_id == image_id)
        .values(status=db_api.DELETED))
    records.usage_add(context.session, image.owner,
                      -((image.size or 0) + (image.upload_reserved or 0)))
    return before


# ---------------------------------------------------------------- usage
#
# What keystone's unified limits count (glance/db/sqlalchemy/api.py
# user_get_*): images a project owns, and those it is uploading.

UPLOADING_STATUSES = (db_api.SAVING, db_api.UPLOADING, db_api.IMPORTING)


@db_api.main_context_manager.reader
def image_count(context, owner, statuses=None):
    """Undeleted images of ``owner`` (killed ones aside), or those in ``statuses``."""
    images = models.Image.__table__
    where = [images.c.owner == owner, images.c.deleted == sa.false()]
    if statuses is None:
        where.append(images.c.status.notin_((db_api.KILLED, db_api.DELETED)))
    else:
        where.append(images.c.status.in_(statuses))
    return context.session.execute(
        sa.select(sa.func.count()).select_from(images).where(*where)
    ).scalar()
