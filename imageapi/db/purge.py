"""Hard deletion of soft-deleted rows, for ``imageapi-manage db purge`` and ``purge_images_table``.

As in Glance, ``purge`` removes what hangs off images deleted before a cutoff (their
properties, tags, members and locations) and location rows deleted from live images,
but keeps the deleted images rows themselves: a row that stays keeps its image ID from
being used again (OSSN-0075). ``purge_images_table`` removes those rows, and whatever
still hangs off them, once an operator decides they may go. Nothing a live image has
is touched, and metadata definitions have no soft delete.

Each batch is one short writer block: select at most a batch of ids, delete them.
"""

import datetime

from oslo_db import api as oslo_db_api
from oslo_log import log as logging
from oslo_utils import timeutils
import sqlalchemy as sa

from imageapi.db import api as db_api
from imageapi.db import query as image_query

LOG = logging.getLogger(__name__)

# Rows deleted per transaction at most, whatever the limit of the run.
BATCH_ROWS = 1000
# Tables of rows that hang off an image, children before parents.
IMAGE_CHILDREN = (image_query.PROPERTIES, image_query.TAGS,
                  image_query.MEMBERS, image_query.LOCATIONS)


def cutoff(age_in_days):
    """The time before which a row deleted counts as old enough to purge."""
    return timeutils.utcnow() - datetime.timedelta(days=age_in_days)


def _purgeable_images(before):
    images = image_query.IMAGES
    return sa.select(images.c.id).where(images.c.deleted == sa.true(),
                                        images.c.deleted_at < before)


def _children_where(table, before):
    where = table.c.image_id.in_(_purgeable_images(before).scalar_subquery())
    if table is image_query.LOCATIONS:
        # A location removed from a live image (DELETE .../stores/{id}).
        where = sa.or_(where, sa.and_(
            table.c.status == db_api.DELETED,
            sa.func.coalesce(table.c.updated_at, table.c.created_at)
            < before))
    return where


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def purge_children_batch(context, table, before, limit):
    """Delete up to ``limit`` rows of ``table`` that purge removes.

    :returns: the number of rows deleted.
    """
    connection = context.session.connection()
    # Ids first, then a DELETE by id: MySQL refuses a DELETE whose subquery
    # has a LIMIT or reads the table being deleted from.
    ids = connection.execute(
        sa.select(table.c.id).where(_children_where(table, before))
        .order_by(table.c.id).limit(limit)).scalars().all()
    if not ids:
        return 0
    return connection.execute(
        table.delete().where(table.c.id.in_(ids),
                             _children_where(table, before))).rowcount


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def purge_images_batch(context, before, limit):
    """Delete up to ``limit`` images deleted before ``before``, with their rows.

    :returns: {table name: rows deleted}.
    """
    connection = context.session.connection()
    images = image_query.IMAGES
    ids = connection.execute(
        _purgeable_images(before).order_by(images.c.deleted_at, images.c.id)
        .limit(limit)).scalars().all()
    counts = {}
    if not ids:
        return counts
    for table in IMAGE_CHILDREN:
        counts[table.name] = connection.execute(
            table.delete().where(table.c.image_id.in_(ids))).rowcount
    # deleted = true again: the row of a live image is never deleted.
    counts[images.name] = connection.execute(
        images.delete().where(images.c.id.in_(ids),
                              images.c.deleted == sa.true(),
                              images.c.deleted_at < before)).rowcount
    return counts


def _run(purge_batch, max_rows):
    """Call ``purge_batch(size)`` until it deletes less than asked or the limit.

    :param max_rows: rows at most over all batches; -1 for no limit.
    """
    total = 0
    while max_rows == -1 or total < max_rows:
        size = (BATCH_ROWS if max_rows == -1
                else min(BATCH_ROWS, max_rows - total))
        done = purge_batch(size)
        total += done
        if done < size:
            break
    return total


def purge_deleted_rows(context, age_in_days, max_rows):
    """What hangs off images deleted more than ``age_in_days`` ago.

    :param max_rows: at most this many rows per table; -1 for all.
    :returns: {table name: rows deleted}.
    """
    before = cutoff(age_in_days)
    counts = {}
    for table in IMAGE_CHILDREN:
        LOG.debug('Purging rows of images deleted more than %d day(s) ago '
                  'from table %s', age_in_days, table.name)
        counts[table.name] = _run(
            lambda size: purge_children_batch(context, table, before, size),
            max_rows)
        LOG.debug('Deleted %d row(s) from table %s', counts[table.name],
                  table.name)
    return counts


def purge_deleted_images(context, age_in_days, max_rows):
    """Images deleted more than ``age_in_days`` ago, and what hangs off them.

    :param max_rows: at most this many images; -1 for all.
    :returns: {table name: rows deleted}.
    """
    before = cutoff(age_in_days)
    counts = dict.fromkeys(
        [t.name for t in IMAGE_CHILDREN] + [image_query.IMAGES.name], 0)
    LOG.debug('Purging images deleted more than %d day(s) ago', age_in_days)

    def batch(size):
        done = purge_images_batch(context, before, size)
        for name, rows in done.items():
            counts[name] += rows
        return done.get(image_query.IMAGES.name, 0)
    _run(batch, max_rows)
    LOG.debug('Deleted %d row(s) from table images',
              counts[image_query.IMAGES.name])
    return counts
