"""ImageDataController: upload and download of image bytes; the only code touching them.

The upload path (PUT /v2/images/{id}/file) is STYLE.md section 3: check headers, claim
`queued -> saving` in its own transaction, stream through the store driver, then record
`saving -> active` in one conditional UPDATE; any failure puts the image back to queued.
"""

from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import uuidutils
import webob

from imageapi.common import exception
from imageapi.common import streams
from imageapi.common import wsgi
from imageapi.db import api as db_api

LOG = logging.getLogger(__name__)

OCTET_STREAM = 'application/octet-stream'
_RESET_VALUES = {'upload_claim': None, 'upload_expires_at': None,
                 'size': None, 'virtual_size': None, 'checksum': None,
                 'os_hash_algo': None, 'os_hash_value': None}


def declared_size(req):
    """x-openstack-image-size, else Content-Length, else None (chunked)."""
    header = req.headers.get('x-openstack-image-size')
    if header is None:
        return req.content_length
    try:
        size = int(header)
    except ValueError:
        raise exception.InvalidImageSize()
    if size < 0:
        raise exception.InvalidImageSize()
    return size


def _check_formats(image):
    missing = [key for key in ('disk_format', 'container_format')
               if not image[key]]
    if len(missing) == 2:
        raise exception.MissingFormats(
            reason='Properties disk_format, container_format must be set '
                   'prior to saving data.')
    if missing:
        raise exception.MissingFormats(
            reason='Property %s must be set prior to saving data.'
                   % missing[0])


class ImageDataController:

    def __init__(self, conf, driver):
        self.conf = conf
        self.driver = driver

    # ------------------------------------------------------------ upload
    def upload(self, req, ctx, image_id):
        content_type = req.content_type or None
        if content_type != OCTET_STREAM:
            raise exception.UnsupportedMediaType(content_type=content_type)
        size = declared_size(req)
        cap = self.conf.image_size_cap
        if size is not None and size > cap:
            raise exception.ImageSizeLimitExceeded(limit=cap)
        image = db_api.image_get(ctx, image_id)
        if not ctx.is_admin and image['owner'] != ctx.project_id:
            raise exception.Forbidden(action='upload_image')
        if image['status'] != db_api.QUEUED:
            raise exception.InvalidStatusTransition(current=image['status'],
                                                    target=db_api.SAVING)
        _check_formats(image)
        claim = uuidutils.generate_uuid()
        db_api.image_transition(ctx, image_id, db_api.QUEUED, db_api.SAVING,
                                values={'upload_claim': claim})
        try:
            stored = self._store(req, image_id, size, cap)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._release(ctx, image_id, claim)
        self._activate(ctx, image_id, claim, stored)
        return wsgi.empty_response()

    def _store(self, req, image_id, size, cap):
        # The driver itself stops a body longer than ``size`` (a size
        # mismatch); this reader enforces the cap on bodies of any length.
        reader = streams.LimitingReader(
            req.body_file, cap,
            lambda: exception.ImageSizeLimitExceeded(limit=cap))
        return self.driver.add(image_id, reader, size)

    def _release(self, ctx, image_id, claim):
        """Best effort: put a failed upload back to queued for a retry."""
        try:
            db_api.image_transition(ctx, image_id, db_api.SAVING,
                                    db_api.QUEUED, values=_RESET_VALUES,
                                    claim=claim)
        except exception.ImageAPIException as exc:
            LOG.info('Image %s not returned to queued: %s', image_id, exc)

    def _activate(self, ctx, image_id, claim, stored):
        values = {'size': stored.size, 'checksum': stored.checksum,
                  'os_hash_algo': stored.hash_algo,
                  'os_hash_value': stored.hash_value,
                  'upload_claim': None, 'upload_expires_at': None,
                  'location': {'url': stored.location, 'metadata': {}}}
        try:
            db_api.image_transition(ctx, image_id, db_api.SAVING,
                                    db_api.ACTIVE, values=values, claim=claim)
        except (exception.ImageNotFound, exception.InvalidStatusTransition):
            # Deleted (or reaped) while the bytes moved: drop the data.
            self.driver.delete(stored.location)
            raise exception.Gone(image_id=image_id)

    # ------------------------------------------------------------ download
    def download(self, req, ctx, image_id):
        image = db_api.image_get(ctx, image_id)
        if not image['locations']:
            return wsgi.empty_response()
        location = image['locations'][0]['url']
        try:
            chunks = self.driver.get(location)
        except exception.StoredDataNotFound:
            return wsgi.empty_response()
        response = webob.Response(app_iter=chunks,
                                  content_type=OCTET_STREAM)
        response.content_length = image['size']
        if image['checksum']:
            response.headers['Content-MD5'] = image['checksum']
        return response
