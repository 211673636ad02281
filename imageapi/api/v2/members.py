"""MembersController: image sharing, /v2/images/{image_id}/members[/{member_id}].

The owner project shares a ``shared`` image with other projects (create, delete); each
member project accepts or rejects it (update), which decides whether the image is in its
default image lists. Checks follow glance/api/v2/image_members.py: the image must be
visible (404), shared (403) and the member rule must pass (403; 404 for show).
"""

from imageapi.api.v2 import images
from imageapi.api.v2 import schemas
from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.db import images as db_images
from imageapi.db import members as db_members
from imageapi import policy

MEMBER_SCHEMA_PATH = '/v2/schemas/member'
MEMBERS_SCHEMA_PATH = '/v2/schemas/members'


def member_view(member):
    view = {key: member[key] for key in ('member_id', 'image_id', 'status',
                                         'created_at', 'updated_at')}
    view['schema'] = MEMBER_SCHEMA_PATH
    return view


def _body_value(req, key, missing, empty=None):
    """``body[key]`` of a JSON object body; 400 with Glance's texts."""
    body = req.read_json()
    if not isinstance(body, dict):
        raise exception.BadRequest(
            reason='Expected a %s in the form: {"%s": "%s"}'
                   % (key, key, key))
    if key not in body:
        raise exception.BadRequest(reason=missing)
    if empty is not None and not body[key]:
        raise exception.BadRequest(reason=empty)
    if not isinstance(body[key], str):
        raise exception.BadRequest(reason='%s must be a string.' % key)
    return body[key]


class MembersController:

    def __init__(self, conf, enforcer):
        self.conf = conf
        self.enforcer = enforcer
        self.schema = schemas.member_schema()

    def _shared_image(self, ctx, image_id):
        """The image, visible to the caller and shared; else 404 or 403."""
        image = db_images.image_get(ctx, image_id)
        self.enforcer.authorize_image(ctx, 'get_image',
                                      images.image_target(ctx, image))
        if image['visibility'] != 'shared':
            raise exception.Forbidden(
                message='Only shared images have members.')
        return image

    def _authorize(self, ctx, action, image, member_id):
        self.enforcer.authorize(
            ctx, action, policy.ImageTarget(image, member=member_id))

    # ------------------------------------------------------------ read
    def index(self, req, ctx, image_id):
        image = self._shared_image(ctx, image_id)
        target = images.image_target(ctx, image)
        self.enforcer.authorize(ctx, 'get_members', target)
        members = [member_view(m)
                   for m in db_members.image_member_find(ctx, image_id)]
        return wsgi.json_response({'members': members,
                                   'schema': MEMBERS_SCHEMA_PATH})

    def show(self, req, ctx, image_id, member_id):
        try:
            image = self._shared_image(ctx, image_id)
            member = db_members.image_member_get(ctx, image_id, member_id)
            self._authorize(ctx, 'get_member', image, member_id)
        except exception.Forbidden:
            # As Glance: no hint that the image or the member exists.
            raise exception.MemberNotFound(member_id=member_id,
                                           image_id=image_id)
        return wsgi.json_response(member_view(member))

    # ------------------------------------------------------------ write
    def create(self, req, ctx, image_id):
        member_id = _body_value(req, 'member',
                                missing='Member to be added not specified',
                                empty="Member can't be empty")
        # The member schema caps the id at what image_members.member holds.
        schemas.validate_image(self.schema, {'member_id': member_id})
        image = self._shared_image(ctx, image_id)
        self._authorize(ctx, 'add_member', image, member_id)
        member = db_members.image_member_create(
            ctx, image_id, member_id, quota=self.conf.image_member_quota)
        return wsgi.json_response(member_view(member))

    def update(self, req, ctx, image_id, member_id):
        status = _body_value(req, 'status', missing='Status not specified')
        image = self._shared_image(ctx, image_id)
        db_members.image_member_get(ctx, image_id, member_id)
        self._authorize(ctx, 'modify_member', image, member_id)
        # Checked last, as Glance does (its domain object's setter).
        if status not in schemas.MEMBER_STATUSES:
            raise exception.BadRequest(
                reason='Incorrect request: Status must be one of %s'
                       % ', '.join(schemas.MEMBER_STATUSES))
        member = db_members.image_member_update(ctx, image_id, member_id,
                                                status)
        return wsgi.json_response(member_view(member))

    def delete(self, req, ctx, image_id, member_id):
        image = self._shared_image(ctx, image_id)
        db_members.image_member_get(ctx, image_id, member_id)
        self._authorize(ctx, 'delete_member', image, member_id)
        db_members.image_member_delete(ctx, image_id, member_id)
        return wsgi.empty_response()
