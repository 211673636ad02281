"""Image members: the projects a shared image is shared with, and their answers.

api/v2/members.py calls these, and api/v2/images.py looks up the caller's own
membership; each is one short reader or writer block on db/api.py's
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
from imageapi.db import models
from imageapi.db import records

MEMBER_STATUSES = ('pending', 'accepted', 'rejected')


def _member_dict(row):
    return {'image_id': row.image_id, 'member_id': row.member,
            'status': row.status,
            'created_at': records.format_time(row.created_at),
            'updated_at': records.format_time(row.updated_at
                                              or row.created_at)}


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


@db_api.main_context_manager.reader
def image_member_find(context, image_id, member_id=None):
    """Members of an image the caller may see, oldest first.

    :param member_id: only this member (a list of at most one).
    """
    query = _member_query(context, image_id)
    if member_id is not None:
        query = query.filter(models.ImageMember.member == member_id)
    return [_member_dict(row) for row in
            query.order_by(models.ImageMember.id)]


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
@db_api._writer
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


@db_api._writer
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
