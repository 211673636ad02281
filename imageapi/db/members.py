"""Image members: the projects a shared image is shared with, and their answers.

api/v2/members.py calls these, and api/v2/images.py looks up the caller's own
membership; each is one short reader or writer block of Core statements on db/api.py's
main_context_manager. Who may call them is the API's policy check; here, as in Glance's
image_member_find, a caller that is neither admin nor the image owner only ever finds
its own membership.
"""

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import query as image_query
from imageapi.db import records

MEMBER_STATUSES = ('pending', 'accepted', 'rejected')

_COLUMNS = ('image_id', 'member', 'status', 'created_at', 'updated_at')


def _member_dict(values):
    return {'image_id': values['image_id'], 'member_id': values['member'],
            'status': values['status'],
            'created_at': records.format_time(values['created_at']),
            'updated_at': records.format_time(values['updated_at']
                                              or values['created_at'])}


def _member_where(context, connection, image_id, member_id=None):
    """What picks the members of ``image_id`` the caller may see.

    :param member_id: only this member.
    """
    table = image_query.MEMBERS
    where = [table.c.image_id == image_id]
    if member_id is not None:
        where.append(table.c.member == member_id)
    if not context.is_admin:
        images = image_query.IMAGES
        owner = connection.execute(sa.select(images.c.owner).where(
            images.c.id == image_id)).scalar()
        if owner is None or owner != context.project_id:
            where.append(table.c.member == context.project_id)
    return where


@db_api.main_context_manager.reader
def image_member_find(context, image_id, member_id=None):
    """Members of an image the caller may see, oldest first.

    :param member_id: only this member (a list of at most one).
    """
    table = image_query.MEMBERS
    connection = context.session.connection()
    rows = connection.execute(
        sa.select(*[table.c[name] for name in _COLUMNS])
        .where(*_member_where(context, connection, image_id, member_id))
        .order_by(table.c.id)).mappings()
    return [_member_dict(row) for row in rows]


@db_api.main_context_manager.reader
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
@db_api._writer
def image_member_create(context, image_id, member_id, quota=-1):
    """Share an image with ``member_id``, status pending.

    :param quota: most members the image may have; -1 for no limit.
    :raises DuplicateMember: already a member.
    :raises LimitExceeded: the image has ``quota`` members already.
    """
    table = image_query.MEMBERS
    connection = context.session.connection()
    # Concurrent adds to one image queue on its row: the count is exact.
    records.lock_image(connection, image_id)
    if quota >= 0:
        count = connection.execute(
            sa.select(sa.func.count()).select_from(table).where(
                table.c.image_id == image_id)).scalar()
        if count + 1 > quota:
            raise exception.LimitExceeded(
                reason='The limit has been exceeded on the number of '
                       'allowed image members for this image. Attempted: '
                       '%d, Maximum: %d' % (count + 1, quota))
    now = timeutils.utcnow()
    row = {'image_id': image_id, 'member': member_id, 'status': 'pending',
           'can_share': False, 'created_at': now, 'updated_at': now}
    try:
        connection.execute(table.insert(), row)
    except db_exc.DBDuplicateEntry:
        raise exception.DuplicateMember(member_id=member_id,
                                        image_id=image_id)
    return _member_dict(row)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def image_member_update(context, image_id, member_id, status):
    """Set the status of one member.

    :raises MemberNotFound: see image_member_get.
    """
    table = image_query.MEMBERS
    connection = context.session.connection()
    result = connection.execute(
        table.update()
        .where(*_member_where(context, connection, image_id, member_id))
        .values(status=status, updated_at=timeutils.utcnow()))
    if result.rowcount != 1:
        raise exception.MemberNotFound(member_id=member_id,
                                       image_id=image_id)
    return image_member_find(context, image_id, member_id)[0]


@db_api._writer
def image_member_delete(context, image_id, member_id):
    """Stop sharing an image with ``member_id``.

    :raises MemberNotFound: see image_member_get.
    """
    table = image_query.MEMBERS
    connection = context.session.connection()
    result = connection.execute(table.delete().where(
        *_member_where(context, connection, image_id, member_id)))
    if not result.rowcount:
        raise exception.MemberNotFound(member_id=member_id,
                                       image_id=image_id)
