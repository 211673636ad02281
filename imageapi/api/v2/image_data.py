"""ImageDataController: upload and download of image bytes; the only code touching them.

The upload path (PUT /v2/images/{id}/file) is STYLE.md section 3: check headers, claim
`queued -> saving` in its own transaction, stream through the store driver, then record
`saving -> active` in one conditional UPDATE; any failure puts the image back to queued.
"""

import re
import time

from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import uuidutils
import webob

from imageapi.api.v2 import images
from imageapi.api.v2 import ranges
from imageapi.api.v2 import upload_leases
from imageapi.common import exception
from imageapi.common import format_check
from imageapi.common import streams
from imageapi.common import wsgi
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import uploads as db_uploads

LOG = logging.getLogger(__name__)

OCTET_STREAM = 'application/octet-stream'


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


_QUOTA_SUFFIXES = {'B': 1, 'KB': 1 << 10, 'MB': 1 << 20, 'GB': 1 << 30,
                   'TB': 1 << 40}
# Bytes an upload of unknown size reserves from the quota at a time.
_QUOTA_STEP = 64 * 1024 * 1024


def parse_quota(value):
    """'10GB' -> bytes; B, KB, MB, GB and TB are binary multiples."""
    match = re.fullmatch(r'\s*(\d+)\s*([KMGT]?B)?\s*', value or '0',
                         re.IGNORECASE)
    if match is None:
        raise ValueError('Invalid user_storage_quota %r: use a number of '
                         'bytes with an optional B, KB, MB, GB or TB '
                         'suffix.' % value)
    unit = (match.group(2) or 'B').upper()
    return int(match.group(1)) * _QUOTA_SUFFIXES[unit]


class _QuotaReader:
    """Reserves quota ahead of the bytes it passes on; 413 past the quota.

    Reservations are conditional UPDATEs on the owner's usage row, so two
    uploads of one owner can never together pass the quota.
    """

    def __init__(self, reader, reserve, reserved=0):
        self.reader = reader
        self.reserve = reserve
        self.reserved = reserved
        self.count = 0

    def read(self, size):
        chunk = self.reader.read(size)
        self.count += len(chunk)
        if self.count > self.reserved:
            needed = self.count - self.reserved
            try:
                self.reserve(max(needed, _QUOTA_STEP))
                self.reserved += max(needed, _QUOTA_STEP)
            except exception.StorageQuotaFull:
                self.reserve(needed)
                self.reserved += needed
        return chunk


# A refused upload reads and drops at most this much of the rest of the
# body, so clients that send the whole body before reading the response
# (python-glanceclient, http.client) get the 413/400 instead of a reset.
_DRAIN_BYTES = 64 * 1024 * 1024
_DRAIN_SECONDS = 10


_BODY_KEY = 'imageapi.upload_body'


def _drain(req, exc, unread=False):
    """Discard what is left of a refused request body, within bounds.

    Only once the body was being read, or with ``unread`` when the image
    refused it (404, 409) after the header checks: a request refused on
    its headers alone (type, size, cap) gets its answer before the client
    sends the body. gunicorn itself drops the connection once more than
    64 KiB of an unread body wait, and the client then sees a reset
    instead of the answer.
    """
    body = req.environ.get(_BODY_KEY)
    if body is None and unread:
        body = req.environ[_BODY_KEY] = _client_body(req)
    if (body is None or not (body.bytes_read or unread)
            or not isinstance(exc, exception.ImageAPIException)
            or exc.code >= 500
            or isinstance(exc, exception.ClientDisconnected)):
        return
    # Through the same ClientReader: it knows how much of Content-Length is
    # left, where a fresh req.body_file would expect all of it again.
    deadline = time.monotonic() + _DRAIN_SECONDS
    drained = 0
    try:
        while drained < _DRAIN_BYTES and time.monotonic() < deadline:
            chunk = body.read(1024 * 1024)
            if not chunk:
                return
            drained += len(chunk)
    except exception.ClientDisconnected:
        return  # the client is gone; nothing to be polite to


def _client_body(req):
    """The request body as a ClientReader, read from the server directly.

    webob's ``body_file`` wraps a body of known length in LimitedLengthFile
    and a BufferedReader, which copy every byte again while holding the
    GIL; ClientReader bounds the reads by Content-Length itself. A chunked
    body (no length) is read until the server's input ends. Under gunicorn
    both skip gunicorn's own buffering: streams.SocketBodyReader receives
    a body of known length from the socket, streams.ChunkedBodyReader
    takes the pieces of a chunked one from gunicorn's chunk parser.
    """
    length = req.content_length
    if length is None and not req.is_body_readable:
        return streams.ClientReader(req.body_file)  # no body at all
    direct = streams.gunicorn_body(req.environ)
    if direct is not None:
        return streams.ClientReader(direct, length)
    return streams.ClientReader(req.body_file_raw, length)


class ImageDataController:

    def __init__(self, conf, driver, leases, enforcer, limits):
        self.conf = conf
        self.driver = driver
        self.leases = leases
        self.enforcer = enforcer
        self.limits = limits
        self.quota = parse_quota(conf.user_storage_quota)

    def _get_image(self, ctx, image_id, action):
        image = db_images.image_get(ctx, image_id)
        self.enforcer.authorize_image(ctx, action,
                                      images.image_target(ctx, image))
        return image

    # ------------------------------------------------------------ upload
    def upload(self, req, ctx, image_id):
        content_type = req.content_type or None
        if content_type != OCTET_STREAM:
            raise exception.UnsupportedMediaType(content_type=content_type)
        size = declared_size(req)
        cap = self.conf.image_size_cap
        if size is not None and size > cap:
            raise exception.ImageSizeLimitExceeded(limit=cap)
        # Glance's order: the keystone pre-check comes before the lookup.
        self.limits.enforce_image_size_total(ctx, ctx.project_id, size)
        claim = uuidutils.generate_uuid()
        try:
            image = self._get_image(ctx, image_id, 'upload_image')
            if image['status'] != db_api.QUEUED:
                raise exception.InvalidStatusTransition(
                    current=image['status'], target=db_api.SAVING)
            _check_formats(image)
            db_uploads.upload_claim(ctx, image_id, claim,
                                    upload_leases.lease_end(self.conf))
        except Exception as exc:
            with excutils.save_and_reraise_exception():
                _drain(req, exc, unread=True)
        self.leases.hold(claim)
        try:
            # The claimed image counts as uploading already (delta 0).
            self.limits.enforce_image_count_uploading(ctx, ctx.project_id)
            stored, virtual_size = self._store(req, ctx, image, claim, size)
            self._activate(ctx, image_id, claim, stored, virtual_size)
        except exception.Gone:
            raise
        except Exception as exc:
            with excutils.save_and_reraise_exception():
                self._release(ctx, image_id, claim)
                _drain(req, exc)
        finally:
            self.leases.drop(claim)
        return wsgi.empty_response()

    def _store(self, req, ctx, image, claim, size):
        cap = self.conf.image_size_cap
        # The driver itself stops a body longer than ``size`` (a size
        # mismatch); this reader enforces the cap on bodies of any length.
        body = req.environ[_BODY_KEY] = _client_body(req)
        reader = streams.LimitingReader(
            body, cap,
            lambda: exception.ImageSizeLimitExceeded(limit=cap))
        quota = self._quota(ctx, image)
        if quota is not None:
            def reserve(delta):
                db_uploads.upload_reserve(ctx, image['id'], claim,
                                          image['owner'], delta, quota)
            if size is not None:
                reserve(size)
            reader = _QuotaReader(reader, reserve,
                                  reserved=size if size is not None else 0)
        inspecting = None
        if format_check.needs_inspection(image['container_format']):
            # Rejects from read(), before the driver makes anything
            # durable: a refused upload leaves no data behind.
            inspecting = reader = format_check.InspectingReader(
                reader, image['disk_format'],
                require_match=self.conf.image_format
                .require_image_format_match)
        stored = self.driver.add(image['id'], reader, size)
        try:
            virtual_size = inspecting.finish() if inspecting else None
        except exception.ImageFormatMismatch:
            with excutils.save_and_reraise_exception():
                self.driver.delete(stored.location)
        return stored, virtual_size

    def _quota(self, ctx, image):
        """Bytes the owner may store in all, or None for no limit.

        With keystone limits, image_size_total fetched once per upload:
        the stream then reserves against it chunk by chunk, so parallel
        uploads cannot pass it together and none can overshoot it (Glance
        only pre-checks). No keystone call happens mid-stream, so a token
        that expires while the bytes move does not fail the upload.
        """
        if self.limits.enabled:
            return self.limits.size_limit_bytes(ctx, image['owner'])
        return self.quota or None

    def _release(self, ctx, image_id, claim):
        """Best effort: put a failed upload back to queued for a retry."""
        try:
            db_uploads.upload_release(ctx, image_id, claim)
        except exception.ImageAPIException as exc:
            LOG.info('Image %s not returned to queued: %s', image_id, exc)

    def _activate(self, ctx, image_id, claim, stored, virtual_size):
        values = {'size': stored.size, 'virtual_size': virtual_size,
                  'checksum': stored.checksum,
                  'os_hash_algo': stored.hash_algo,
                  'os_hash_value': stored.hash_value,
                  'location': {'url': stored.location, 'metadata': {}}}
        try:
            db_uploads.upload_finish(ctx, image_id, claim, values)
        except (exception.ImageNotFound, exception.InvalidStatusTransition):
            # Deleted (or reaped) while the bytes moved: drop the data.
            self.driver.delete(stored.location)
            raise exception.Gone(image_id=image_id)

    # ------------------------------------------------------------ download
    def download(self, req, ctx, image_id):
        image = self._get_image(ctx, image_id, 'download_image')
        if not image['locations'] or image['size'] is None:
            return wsgi.empty_response()
        size = image['size']
        span = ranges.requested_range(req.headers, size)
        offset, length = (0, size) if span is None else span
        try:
            chunks = self.driver.get(image['locations'][0]['url'],
                                     offset=offset, length=length)
        except exception.StoredDataNotFound:
            return wsgi.empty_response()
        file_wrapper = req.environ.get('wsgi.file_wrapper')
        if span is None and file_wrapper and getattr(chunks, 'file', None):
            # Whole images only: servers differ in whether their sendfile
            # path honours Content-Length, and a range must stop there.
            chunks = file_wrapper(chunks.file, self.conf.store.chunk_size)
        response = webob.Response(app_iter=chunks,
                                  content_type=OCTET_STREAM)
        response.content_length = length
        if span is not None:
            response.status_int = 206
            response.headers['Content-Range'] = ranges.content_range(
                offset, length, size)
        if image['checksum']:
            # Of the whole image, on a 206 too, as Glance sends it.
            response.headers['Content-MD5'] = image['checksum']
        return response
