"""SwiftDriver: image data as objects in OpenStack Swift, loaded as the 'swift' driver.

An image whose declared size is below ``swift_store_large_object_size`` is one object
PUT; any other image goes up as segments of ``swift_store_large_object_chunk_size``
bytes plus a Static Large Object manifest written last. Bytes stream through: each
write goes out at once as a chunk of an open chunked PUT. Every upload first writes an
empty marker object ``<image ID>.<upload>``; its segments are
``<image ID>.<upload>.<number>``, so that ``purge`` finds what any upload left by the
prefix ``<image ID>.``, and an upload whose marker was purged fails at commit.
HTTP, authentication and retries live in store/swift_connection.py.
"""

import hashlib
import json
import uuid

from oslo_log import log as logging

from imageapi.common import exception
from imageapi.conf import swift_store as swift_conf
from imageapi.store import driver
from imageapi.store import swift_connection

LOG = logging.getLogger(__name__)

_MIB = 1024 * 1024
_SCHEME = 'swift+config://'
_SEGMENT_FORMAT = '%s.%06d'
_OCTET_STREAM = 'application/octet-stream'


def _new_md5():
    """The hash of each object sent; a module-level name for the tests."""
    return hashlib.md5(usedforsecurity=False)


def _etag(response):
    return (response.header('ETag') or '').strip('"')


def check_etag(name, md5_hex, response):
    """Compare the md5 of the bytes sent for ``name`` with Swift's ETag.

    :raises imageapi.common.exception.StorageChecksumMismatch: if they
        differ: Swift stored other bytes than were sent.
    """
    etag = _etag(response)
    if etag != md5_hex:
        raise exception.StorageChecksumMismatch(
            reason='Swift stored %s with MD5 %s, but %s was sent'
                   % (name, etag or '(none)', md5_hex))


def _raise_for(response, what, location=None):
    """Raise the exception an unexpected Swift answer stands for."""
    status = response.status
    if status == 404 and location is not None:
        raise exception.StoredDataNotFound(location=location)
    if status in (413, 507):
        # 413: the account quota (or max_file_size); 507: disks full.
        raise exception.StorageFull(reason='Swift answered %d to %s'
                                    % (status, what))
    if status in (401, 403):
        raise exception.StorageWriteDenied(reason='Swift answered %d to %s'
                                           % (status, what))
    raise exception.BackendUnavailable(reason='Swift answered %d to %s'
                                       % (status, what))


def container_name(base, seed, image_id):
    """The container of ``image_id``: Glance's swift_store_multiple_containers_seed.

    Seed 0 gives ``base``; seed N gives ``<base>_<first N characters of
    the lower-cased ID>``, where dashes are kept but not counted.
    """
    if not seed:
        return base
    image_id = image_id.lower()
    num_chars = seed + image_id[:seed].count('-')
    return '%s_%s' % (base, image_id[:num_chars])


class _SwiftWriter(driver.Writer):
    """One upload: a marker object, then one object or segments + manifest.

    ``__enter__`` writes the marker ``<image_id>.<uuid4 hex>``; ``write``
    streams into the open PUT, starting the next segment when one is full;
    ``commit`` checks the marker is still there, ends the last PUT, writes
    the manifest of a segmented upload and removes the marker.
    """

    def __init__(self, driver_, image_id, container, size):
        self._driver = driver_
        self._swift = driver_.swift
        self._image_id = image_id
        self._container = container
        self._marker = '%s.%s' % (image_id, uuid.uuid4().hex)
        self._segment_size = driver_.segment_size
        self._segmented = size is None or size >= driver_.large_object_size
        self._size = 0
        self._segments = []
        # Names this upload may have created in Swift: what abort deletes.
        # A PUT creates nothing before the end of its body is sent.
        self._created = []
        self._put = None
        self._put_name = None
        self._put_md5 = None
        self._put_bytes = 0

    def __enter__(self):
        self._driver.put_marker(self._container, self._marker)
        return self

    def write(self, chunk):
        """Send ``chunk`` on, across as many segments as it fills."""
        view = memoryview(chunk).cast('B')
        self._size += view.nbytes
        while view:
            if self._put is None:
                self._open_put()
            part = view
            if self._segmented:
                part = view[:self._segment_size - self._put_bytes]
            view = view[part.nbytes:]
            self._put_md5.update(part)
            self._put_bytes += part.nbytes
            try:
                self._put.send(part)
            except swift_connection.SwiftRejected as exc:
                self._put = None
                self._refused(exc.response, self._put_name)
            if self._segmented and self._put_bytes == self._segment_size:
                self._finish_put()

    def _open_put(self):
        if self._segmented:
            self._put_name = _SEGMENT_FORMAT % (self._marker,
                                                len(self._segments) + 1)
            headers = {'Content-Type': _OCTET_STREAM}
        else:
            self._put_name = self._image_id
            headers = {'Content-Type': _OCTET_STREAM, 'If-None-Match': '*'}
        self._put_md5 = _new_md5()
        self._put_bytes = 0
        self._put = self._swift.put(self._container, self._put_name, headers)

    def _finish_put(self):
        """End the open PUT; check and record the object it wrote."""
        put, self._put = self._put, None
        name, md5_hex = self._put_name, self._put_md5.hexdigest()
        self._created.append(name)
        try:
            response = put.finish()
        except swift_connection.SwiftRejected as exc:
            response = exc.response
        if response.status != 201:
            # Refused: nothing was created, and the image's own name may
            # hold the data of another upload.
            self._created.remove(name)
            self._refused(response, name)
        check_etag(name, md5_hex, response)
        if self._segmented:
            self._segments.append({
                'path': '/%s/%s' % (self._container, name),
                'etag': md5_hex, 'size_bytes': self._put_bytes})

    def _refused(self, response, name):
        if response.status == 412 and name == self._image_id:
            raise exception.Duplicate(image_id=self._image_id)
        _raise_for(response, 'PUT of %s' % name)

    def commit(self):
        """Make the image visible at its location; see Writer.commit."""
        response = self._swift.request('HEAD', self._container, self._marker)
        if response.status == 404:
            # purge() ran: the reaper took the claim on this upload.
            raise exception.UploadLeaseLost(image_id=self._image_id)
        if response.status // 100 != 2:
            _raise_for(response, 'HEAD of %s' % self._marker)
        if self._put is None and (not self._segmented or not self._segments):
            # An empty image: one empty object, never an empty manifest.
            self._segmented = False
            self._open_put()
        if self._put is not None:
            self._finish_put()
        if self._segments:
            self._put_manifest()
        self.committed = True
        self._driver.delete_quietly(self._container, self._marker)
        return driver.StoredImage(
            location=self._driver.location(self._container, self._image_id),
            size=self._size)

    def _put_manifest(self):
        self._created.append(self._image_id)
        response = self._swift.request(
            'PUT', self._container, self._image_id,
            query={'multipart-manifest': 'put'},
            headers={'Content-Type': _OCTET_STREAM, 'If-None-Match': '*'},
            body=json.dumps(self._segments).encode('utf-8'),
            idempotent=False)
        if response.status == 201:
            return
        self._created.remove(self._image_id)
        if response.status == 400 and b'404 Not Found' in response.body:
            # Segments were removed under the upload: purge() ran.
            raise exception.UploadLeaseLost(image_id=self._image_id)
        self._refused(response, self._image_id)

    def abort(self):
        """Drop the open PUT, delete what was created; never raises."""
        if self._put is not None:
            put, self._put = self._put, None
            put.close()
        created, self._created = self._created, []
        self._segments = []
        for name in created + [self._marker]:
            self._driver.delete_quietly(self._container, name)


class _SwiftChunks:
    """Iterator over (part of) an object, in chunks; returned by get.

    A body that breaks off is resumed from where it stopped with a ranged
    GET, ``swift_store_retry_get_count`` times; after that, or if Swift
    sends fewer bytes than announced, iteration raises BackendUnavailable
    so that the server drops the client connection instead of ending the
    body short.
    """

    def __init__(self, driver_, container, obj, stream, offset, remaining):
        self._driver = driver_
        self._container = container
        self._obj = obj
        self._stream = stream
        self._position = offset
        self._remaining = remaining
        self._chunk_size = driver_.chunk_size
        self._retries = driver_.retry_get_count

    def __iter__(self):
        return self

    def __next__(self):
        while self._stream is not None and self._remaining > 0:
            want = min(self._chunk_size, self._remaining)
            try:
                data = self._stream.read(want)
            except swift_connection.CONNECTION_ERRORS as exc:
                LOG.warning('Download of %s/%s broke off at byte %d: %s',
                            self._container, self._obj, self._position, exc)
                data = b''
            if data:
                self._position += len(data)
                self._remaining -= len(data)
                return data
            self._resume()
        self.close()
        raise StopIteration

    def _resume(self):
        self._stream.close()
        self._stream = None
        if self._retries <= 0:
            raise exception.BackendUnavailable(
                reason='the download of %s from Swift broke off'
                       % self._obj)
        self._retries -= 1
        end = self._position + self._remaining - 1
        stream = self._driver.swift.get(
            self._container, self._obj,
            {'Range': 'bytes=%d-%d' % (self._position, end)})
        if stream.status != 206:
            _raise_for(stream, 'GET of %s' % self._obj)
        self._stream = stream

    def close(self):
        """Close the answer being read; safe to call more than once."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class SwiftDriver(driver.Driver):
    """Stores each image as ``<container>/<image_id>`` in one Swift account.

    ``large_object_size`` and ``segment_size`` (bytes) come from the
    options in MiB.
    """

    capabilities = frozenset({driver.RANDOM_READ})

    def __init__(self, conf, group=swift_conf.GROUP):
        super().__init__(conf)
        opts = conf[group]
        self.large_object_size = opts.swift_store_large_object_size * _MIB
        self.segment_size = opts.swift_store_large_object_chunk_size * _MIB
        self.container = opts.swift_store_container
        self.seed = opts.swift_store_multiple_containers_seed
        self.create_container = opts.swift_store_create_container_on_put
        self.reference = opts.default_swift_reference
        self.retry_get_count = opts.swift_store_retry_get_count
        self.chunk_size = conf.store.chunk_size
        self.swift = swift_connection.SwiftConnection(opts)

    def properties(self):
        return {'container': self.container,
                'large_object_size': self.large_object_size,
                'large_object_chunk_size': self.segment_size}

    def close(self):
        """Close the idle connections to Swift (tests; process exit)."""
        self.swift.close()

    def location(self, container, image_id):
        return '%s%s/%s/%s' % (_SCHEME, self.reference, container, image_id)

    def _parse(self, location):
        """Return ``(container, object)`` of one of this driver's locations.

        :raises imageapi.common.exception.StoredDataNotFound: otherwise:
            another account reference, a container that is not one of
            swift_store_container's, or an object that is no image ID.
        """
        prefix = '%s%s/' % (_SCHEME, self.reference)
        if isinstance(location, str) and location.startswith(prefix):
            container, _sep, obj = location[len(prefix):].partition('/')
            # Any seed, so that a changed seed keeps older images readable.
            if (driver.IMAGE_ID_RE.fullmatch(obj)
                    and (container == self.container
                         or self._seeded(container, obj))):
                return container, obj
        raise exception.StoredDataNotFound(location=location)

    def _seeded(self, container, obj):
        base = self.container + '_'
        suffix = container[len(base):]
        return (container.startswith(base) and suffix
                and obj.lower().startswith(suffix))

    def put_marker(self, container, name):
        """Write the empty marker object of an upload; create the container."""
        response = self.swift.request('PUT', container, name, body=b'')
        if response.status == 404 and self.create_container:
            created = self.swift.request('PUT', container)
            if created.status not in (201, 202):
                _raise_for(created, 'PUT of the container %s' % container)
            response = self.swift.request('PUT', container, name, body=b'')
        if response.status == 404:
            raise exception.BackendUnavailable(
                reason='the Swift container %s does not exist' % container)
        if response.status != 201:
            _raise_for(response, 'PUT of %s' % name)

    def delete_quietly(self, container, name):
        """Delete one object on a cleanup path; True if it was there."""
        try:
            response = self.swift.request('DELETE', container, name)
        except exception.BackendUnavailable as exc:
            LOG.warning('Could not delete %s/%s from Swift: %s', container,
                        name, exc)
            return False
        if response.status in (200, 204):
            return True
        if response.status != 404:
            LOG.warning('Could not delete %s/%s from Swift: answer %d',
                        container, name, response.status)
        return False

    def writer(self, image_id, size=None):
        """A writer of ``image_id``'s object(s); see Driver.writer."""
        driver.check_image_id(image_id)
        container = container_name(self.container, self.seed, image_id)
        # Fails before the body is read; If-None-Match on the final PUT is
        # the real check.
        response = self.swift.request('HEAD', container, image_id)
        if response.status // 100 == 2:
            raise exception.Duplicate(image_id=image_id)
        if response.status != 404:
            _raise_for(response, 'HEAD of %s' % image_id)
        return _SwiftWriter(self, image_id, container, size)

    def get(self, location, offset=0, length=None):
        """Stream the object at ``location``; see Driver.get."""
        if offset < 0 or (length is not None and length < 0):
            raise exception.InvalidRange(
                reason='offset and length must not be negative')
        container, obj = self._parse(location)
        if length == 0:
            self.get_size(location)
            return _SwiftChunks(self, container, obj, None, offset, 0)
        headers = {}
        if offset or length is not None:
            end = '' if length is None else '%d' % (offset + length - 1)
            headers['Range'] = 'bytes=%d-%s' % (offset, end)
        stream = self.swift.get(container, obj, headers)
        if stream.status == 416:
            # At or past the end (the object exists, else 404).
            return _SwiftChunks(self, container, obj, None, offset, 0)
        if stream.status == 200 and offset:
            stream.close()
            raise exception.BackendUnavailable(
                reason='Swift ignored the range of a GET of %s' % obj)
        if stream.status not in (200, 206):
            _raise_for(stream, 'GET of %s' % obj, location)
        remaining = int(stream.headers.get('Content-Length', 0))
        if length is not None:
            remaining = min(remaining, length)
        return _SwiftChunks(self, container, obj, stream, offset, remaining)

    def get_size(self, location):
        """HEAD the object at ``location``; see Driver.get_size."""
        container, obj = self._parse(location)
        response = self.swift.request('HEAD', container, obj)
        if response.status != 200:
            _raise_for(response, 'HEAD of %s' % obj, location)
        return int(response.header('Content-Length', 0))

    def delete(self, location):
        """Delete the object, or the manifest and its segments; see Driver.delete."""
        container, obj = self._parse(location)
        response = self.swift.request('HEAD', container, obj)
        if response.status != 200:
            _raise_for(response, 'HEAD of %s' % obj, location)
        if response.header('X-Static-Large-Object', '').lower() != 'true':
            response = self.swift.request('DELETE', container, obj)
            if response.status not in (200, 204):
                _raise_for(response, 'DELETE of %s' % obj, location)
            return
        response = self.swift.request(
            'DELETE', container, obj, query={'multipart-manifest': 'delete'},
            headers={'Accept': 'application/json'})
        if response.status != 200:
            _raise_for(response, 'DELETE of %s' % obj, location)
        # The status of a bulk delete is in its body.
        result = json.loads(response.body)
        if result.get('Errors'):
            raise exception.BackendUnavailable(
                reason='Swift could not delete all of %s: %s'
                       % (obj, result['Errors']))
        if not result.get('Number Deleted'):
            raise exception.StoredDataNotFound(location=location)

    def _names(self, container, prefix):
        """Every object name in ``container`` that starts with ``prefix``."""
        names = []
        marker = ''
        while True:
            response = self.swift.request(
                'GET', container,
                query={'prefix': prefix, 'marker': marker, 'format': 'json'})
            if response.status == 404:
                return names
            if response.status != 200:
                _raise_for(response, 'listing of %s' % container)
            page = [entry['name'] for entry in json.loads(response.body)]
            if not page:
                return names
            names.extend(page)
            marker = page[-1]

    def purge(self, image_id):
        """Delete the object, manifest, segments and markers of ``image_id``.

        See Driver.purge. The object (or manifest) goes first, its
        segments with everything else under ``<image_id>.``.
        """
        driver.check_image_id(image_id)
        container = container_name(self.container, self.seed, image_id)
        removed = int(self.delete_quietly(container, image_id))
        for name in self._names(container, image_id + '.'):
            removed += self.delete_quietly(container, name)
        return removed
