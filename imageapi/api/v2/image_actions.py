"""POST /v2/images/{image_id}/actions/deactivate and .../reactivate.

An operator pulls a bad image with deactivate: its record stays, its data stays in the
store, and only admins may download it (api/v2/image_data.py) until reactivate. Each is
one compare-and-swap between ``active`` and ``deactivated``; asking for the status the
image is in already is a no-op (204), from any other status a 403, as Glance answers.
"""

from oslo_log import log as logging

from imageapi.api.v2 import images
from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.db import api as db_api
from imageapi.db import images as db_images

LOG = logging.getLogger(__name__)


class ImageActionsController:

    def __init__(self, enforcer):
        self.enforcer = enforcer

    def deactivate(self, req, ctx, image_id):
        return self._change(ctx, image_id, 'deactivate', db_api.ACTIVE,
                            db_api.DEACTIVATED)

    def reactivate(self, req, ctx, image_id):
        return self._change(ctx, image_id, 'reactivate', db_api.DEACTIVATED,
                            db_api.ACTIVE)

    def _change(self, ctx, image_id, action, source, target):
        image = db_images.image_get(ctx, image_id)
        self.enforcer.authorize_image(ctx, action,
                                      images.image_target(ctx, image))
        status = image['status']
        if status == source:
            try:
                db_images.image_transition(ctx, image_id, source, target)
                status = target
            except exception.InvalidStatusTransition:
                # Changed since it was read: decide on what it is now.
                status = db_images.image_get(ctx, image_id)['status']
        if status != target:
            raise exception.Forbidden(
                message="Not allowed to %s image in status '%s'"
                        % (action, status))
        LOG.info('Image %s is %sd', image_id, action)
        return wsgi.empty_response()
