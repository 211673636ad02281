"""ImageDataController: upload and download of image bytes; the only code touching them.

The upload path (PUT /v2/images/{id}/file) is STYLE.md section 3: check headers, claim
`queued -> saving` in its own transaction, build the upload's one stream
(common/streams.py UploadStream: length, cap, quota, format, hashes), let the store
driver write it (store/driver.py), then record `saving -> active` in one conditional
UPDATE; any failure puts the image back to queued.
"""

import functools
import io
import re
import time

from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import uuidutils
import webob

from imageapi.api.v2 import images
from imageapi.api.v2 import ranges
from imageapi.cache import chunks as cache_chunks
from imageapi.cache import keeper as cache_keeper
from imageapi.common import exception
from imageapi.common import format_check
from imageapi.common import streams
from imageapi.common import wsgi
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import imports as db_imports
from imageapi.db import uploads as db_uploads
from imageapi.importing import methods
from imageapi import leases
from imageapi.store import driver as store_driver

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


# A refused upload reads and drops at most this much of the rest of the
# body, so clients that send the whole body before reading the response
# (python-glanceclient, http.client) get the 413/400 instead of a reset.
_DRAIN_BYTES = 64 * 1024 * 1024
_DRAIN_SECONDS = 10


def _drain(body, exc, unread=False):
    """Discard what is left of a refused request body, within bounds.

    Only once the body was being read, or with ``unread`` when the image
    refused it (404, 409) after the header checks: a request refused on
    its headers alone (type, size, cap) gets its answer before the client
    sends the body. gunicorn itself drops the connection once more than
    64 KiB of an unread body wait, and the client then sees a reset
    instead of the answer.
    """
    if (not (body.bytes_read or unread)
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


def _client_body(req, idle_timeout):
    """The request body as a ClientReader over ``wsgi.input`` itself.

    webob's ``body_file`` wraps a body of known length in LimitedLengthFile
    and a BufferedReader, which copy every byte again while holding the
    GIL; ClientReader bounds the reads by Content-Length itself. A chunked
    body (no length) is read until the server's input ends. Under
    imageapi-api, ``wsgi.input`` is already the fast reader of
    imageapi/cmd/gunicorn_input.py.
    """
    length = req.content_length
    if length is None and not req.is_body_readable:
        return streams.ClientReader(io.BytesIO(b''))  # no body at all
    return streams.ClientReader(req.body_file_raw, length, idle_timeout)


class ImageDataController:

    def __init__(self, conf, stores, leases, enforcer, limits, staging,
                 cache=None):
        self.conf = conf
        self.stores = stores
        self.staging = staging
        self.cache = cache
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
        size = self._check_headers(req, ctx)
        # X-Image-Meta-Store picks one of several stores (400 if unknown).
        store = self.stores.get(req.headers.get('X-Image-Meta-Store'))
        body = _client_body(req, self.conf.upload.body_idle_timeout)
        image, claim = self._claim(ctx, image_id, body, 'upload_image',
                                   db_api.SAVING, _check_formats)
        stored = None
        try:
            # The claimed image counts as uploading already (delta 0).
            self.limits.enforce_image_count_uploading(ctx, ctx.project_id)
            with self._stream(ctx, image, claim, body, size) as stream:
                stored = store.driver.add(image_id, stream, size)
            self._activate(ctx, image_id, claim, store, stored, stream)
        except exception.Gone:
            raise
        except Exception as exc:
            if self._undo(ctx, image_id, claim, store, stored, body, exc):
                raise exception.Gone(image_id=image_id) from exc
            raise
        finally:
            self.leases.drop(claim)
        return wsgi.empty_response()

    def _claim(self, ctx, image_id, body, rule, status, check=None):
        """queued -> ``status`` under a new claim, held by this process.

        In its own transaction, before the first byte of ``body`` is read;
        a refusal drains what the client sends, within bounds.

        :param check: callable(image) raising to refuse the image first.
        :returns: (image, claim).
        """
        claim = uuidutils.generate_uuid()
        try:
            image = self._get_image(ctx, image_id, rule)
            if image['status'] != db_api.QUEUED:
                raise exception.InvalidStatusTransition(
                    current=image['status'], target=status)
            if check is not None:
                check(image)
            db_uploads.upload_claim(ctx, image_id, claim,
                                    leases.lease_end(self.conf),
                                    status=status)
        except Exception as exc:
            with excutils.save_and_reraise_exception():
                _drain(body, exc, unread=True)
        self.leases.hold(claim, image_id)
        return image, claim

    def _undo(self, ctx, image_id, claim, store, stored, body, exc):
        """After a failed upload: queued again, no data left; True if deleted.

        Best effort: when the database cannot be reached the image stays
        saving, and the reaper returns it to queued and purges its data once
        its lease ran out.
        """
        released = self._release(ctx, image_id, claim)
        if released and stored is not None:
            self.stores.discard(store, stored.location)
        _drain(body, exc)
        return not released and self._deleted(ctx, image_id)

    # ------------------------------------------------------------ stage
    def stage(self, req, ctx, image_id):
        """PUT /v2/images/{id}/stage: queued -> uploading, data to staging.

        The upload's pipeline into the staging area (a file store of its
        own) instead of a store; the image stays ``uploading`` with its data
        staged, and its bytes stay reserved against the owner's quota,
        until POST .../import (glance-direct) takes them.
        """
        if methods.GLANCE_DIRECT not in self.conf.enabled_import_methods:
            raise exception.NotFound(
                message="'glance-direct' method is not available at this "
                        "site.")
        size = self._check_headers(req, ctx, staging=True)
        body = _client_body(req, self.conf.upload.body_idle_timeout)
        # Glance: stage has no rule of its own; modify_image guards it.
        image, claim = self._claim(ctx, image_id, body, 'modify_image',
                                   db_api.UPLOADING)
        try:
            self._stage(ctx, image, claim, body, size)
        finally:
            self.leases.drop(claim)
        return wsgi.empty_response()

    def _stage(self, ctx, image, claim, body, size):
        image_id = image['id']
        stored = None
        try:
            self.limits.enforce_image_count_uploading(ctx, ctx.project_id)
            with self._stream(ctx, image, claim, body, size,
                              status=db_api.UPLOADING) as stream:
                try:
                    stored = self.staging.add(image_id, stream, size)
                except exception.Duplicate:
                    raise exception.Conflict(
                        message='The image %s has data on staging'
                                % image_id)
            db_imports.stage_finish(ctx, image_id, claim, stream.size)
        except Exception as exc:
            released = self._release(ctx, image_id, claim, db_api.UPLOADING)
            _drain(body, exc)
            deleted = not released and self._deleted(ctx, image_id)
            if stored is not None and (released or deleted):
                # No record points at it: queued again, or deleted.
                self.staging.purge(image_id)
            if deleted:
                raise exception.Gone(image_id=image_id) from exc
            raise

    def _check_headers(self, req, ctx, staging=False):
        """Refuse on the headers alone, before the body: the declared size."""
        content_type = req.content_type or None
        if content_type != OCTET_STREAM:
            raise exception.UnsupportedMediaType(content_type=content_type)
        size = declared_size(req)
        cap = self.conf.image_size_cap
        if size is not None and size > cap:
            raise exception.ImageSizeLimitExceeded(limit=cap)
        # Glance's order: the keystone pre-check comes before the lookup.
        if staging:
            self.limits.enforce_image_stage_total(ctx, ctx.project_id, size)
        else:
            self.limits.enforce_image_size_total(ctx, ctx.project_id, size)
        return size

    def _stream(self, ctx, image, claim, body, size, status=db_api.SAVING):
        """The UploadStream of this upload: what the driver will write."""
        reserve = None
        quota = self._quota(ctx, image)
        if quota is not None:
            # reserve(delta): a conditional UPDATE of the owner's usage row,
            # in its own short transaction between two chunks.
            reserve = functools.partial(db_uploads.upload_reserve, ctx,
                                        image['id'], claim, quota=quota,
                                        status=status)
        inspector = None
        if (image['disk_format']
                and format_check.needs_inspection(image['container_format'])):
            inspector = format_check.FormatInspector(
                image['disk_format'], require_match=self.conf.image_format
                .require_image_format_match)
        return streams.UploadStream(
            body, self.conf.store.chunk_size, self.conf.hashing_algorithm,
            size=size, cap=self.conf.image_size_cap, reserve=reserve,
            inspector=inspector,
            check=functools.partial(self.leases.check, claim))

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

    def _release(self, ctx, image_id, claim, status=db_api.SAVING):
        """Best effort: put a failed upload back to queued; True if done."""
        try:
            db_uploads.upload_release(ctx, image_id, claim, status)
            return True
        except Exception as exc:
            LOG.info('Image %s not returned to queued: %s', image_id, exc)
            return False

    def _deleted(self, ctx, image_id):
        try:
            db_images.image_get(ctx, image_id)
        except exception.ImageNotFound:
            return True
        except Exception:
            pass  # unknown, the database being unreachable
        return False

    def _activate(self, ctx, image_id, claim, store, stored, stream):
        values = {'size': stream.size, 'virtual_size': stream.virtual_size,
                  'checksum': stream.checksum,
                  'os_hash_algo': stream.hash_algo,
                  'os_hash_value': stream.hash_value,
                  'location': {'url': stored.location,
                               'metadata': self.stores.location_metadata(
                                   store)}}
        try:
            db_uploads.upload_finish(ctx, image_id, claim, values)
        except exception.ImageNotFound:
            # Deleted while the bytes moved: drop the data; Glance's 410.
            self.stores.discard(store, stored.location)
            raise exception.Gone(image_id=image_id)
        except exception.InvalidStatusTransition:
            # The claim is no longer ours (reaped, its lease having run
            # out): the image is queued again and may be uploaded anew.
            self.stores.discard(store, stored.location)
            raise exception.UploadLeaseLost(image_id=image_id)

    # ------------------------------------------------------------ download
    def download(self, req, ctx, image_id):
        image = self._image_to_download(ctx, image_id)
        # Before any answer: an image that is not active loses its entry.
        cacheable = self._cacheable(image)
        if image['status'] == db_api.DEACTIVATED and not ctx.is_admin:
            raise exception.Forbidden(
                message='The requested image has been deactivated. Image '
                        'data download is forbidden.')
        if not image['locations'] or image['size'] is None:
            return wsgi.empty_response()
        requested = ranges.requested_range(req.headers, image['size'])
        if cacheable:
            response = self._from_cache(req, image, requested)
            if response is not None:
                return response
        # Stores of higher weight first; a store that fails or lacks the
        # data passes to the next location.
        for location, store in self.stores.by_weight(image['locations']):
            span = None
            if store_driver.RANDOM_READ in store.driver.capabilities:
                # Without it a Range is answered with the whole image
                # (200), as HTTP allows.
                span = requested
            offset, length = (0, image['size']) if span is None else span
            try:
                chunks = store.driver.get(location['url'], offset=offset,
                                          length=length)
            except (exception.StoredDataNotFound,
                    exception.BackendUnavailable) as exc:
                LOG.warning('Image %s: no data from store %s: %s', image_id,
                            store.id, exc)
                continue
            if cacheable and span is None:
                chunks = self._filling(image, chunks)
            return self._data_response(req, image, chunks, span, offset,
                                       length)
        return wsgi.empty_response()

    # ------------------------------------------------------------ cache
    def _image_to_download(self, ctx, image_id):
        """The image; on 404 its cache entry goes if the image is gone."""
        try:
            return self._get_image(ctx, image_id, 'download_image')
        except exception.ImageNotFound:
            with excutils.save_and_reraise_exception():
                if self.cache is not None:
                    cache_keeper.forget_if_gone(self.cache, image_id)

    def _cacheable(self, image):
        """True if this download may use the cache; else its entry goes.

        The status comes from the database on every request: a deactivated
        (or any other not active) image is never served from the cache.
        """
        if self.cache is None:
            return False
        if cache_keeper.cacheable(image):
            return True
        self.cache.delete(image['id'])
        return False

    def _from_cache(self, req, image, requested):
        """The response from this node's cache, or None to read the store.

        A whole-image download that finds the image being filled by
        another download of this node follows that fill (FollowingChunks)
        instead of reading the store: the store is read once per node.
        """
        cached = self.cache.open_entry(image['id'], image['size'],
                                       image['os_hash_algo'],
                                       image['os_hash_value'])
        if cached is not None:
            return self._cached_response(req, image, cached, requested)
        if requested is not None:
            return None  # served from the store, and does not fill
        filling = self.cache.follow(image['id'])
        if filling is None:
            return None
        chunks = cache_chunks.FollowingChunks(
            filling, image['size'], self.conf.store.chunk_size,
            functools.partial(self._store_rest, image))
        return self._data_response(req, image, chunks, None, 0,
                                   image['size'])

    def _store_rest(self, image, offset, length):
        """What a follower's filler did not write, from a store."""
        for location, store in self.stores.by_weight(image['locations']):
            if store_driver.RANDOM_READ not in store.driver.capabilities:
                continue
            try:
                return store.driver.get(location['url'], offset=offset,
                                        length=length)
            except (exception.StoredDataNotFound,
                    exception.BackendUnavailable) as exc:
                LOG.warning('Image %s: no data from store %s: %s',
                            image['id'], store.id, exc)
        # Mid-response: the server drops the connection, the client sees
        # a short body.
        raise exception.StoredDataNotFound(location=image['id'])

    def _filling(self, image, chunks):
        """``chunks``, also written to the cache unless another fill runs."""
        fill = self.cache.start_fill(image['id'], image['size'],
                                     image['os_hash_algo'],
                                     image['os_hash_value'])
        if fill is None:
            return chunks
        return cache_chunks.FillingChunks(chunks, fill)

    def _cached_response(self, req, image, fileobj, requested):
        """The image from its cache file: every Range honoured."""
        offset, length = (0, image['size']) if requested is None \
            else requested
        if offset:
            fileobj.seek(offset)
        chunks = streams.FileChunks(fileobj, self.conf.store.chunk_size,
                                    length)
        return self._data_response(req, image, chunks, requested, offset,
                                   length)

    def _data_response(self, req, image, chunks, span, offset, length):
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
                offset, length, image['size'])
        if image['checksum']:
            # Of the whole image, on a 206 too, as Glance sends it.
            response.headers['Content-MD5'] = image['checksum']
        return response
