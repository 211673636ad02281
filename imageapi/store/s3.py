"""S3Driver: image data as objects in an S3 bucket (AWS, Ceph radosgw, ...), the 's3' driver.

An image of a declared size below ``s3_store_large_object_size`` is one PUT whose body
streams as the upload arrives (a worker thread sends it while ``write`` hands it the
chunks); any other image goes up as an S3 multipart upload of
``s3_store_large_object_chunk_size`` parts, one part buffered at a time, aborted on any
failure. Every upload first writes an empty marker object ``<image ID>.<upload>``:
``purge`` removes it (and aborts the image's multipart uploads), and an upload whose
marker is gone fails at commit. boto3 is imported only when an S3 store is configured.
"""

import queue
import threading
import uuid

from oslo_log import log as logging

from imageapi.common import exception
from imageapi.conf import s3_store as s3_conf
from imageapi.store import driver

try:
    import boto3
    from botocore import config as botocore_config
    from botocore import exceptions as botocore_exc
except ImportError:  # the store is optional: see S3Driver.__init__
    boto3 = None

LOG = logging.getLogger(__name__)

_MIB = 1024 * 1024
_OCTET_STREAM = 'application/octet-stream'
# Seconds a write waits at most for the thread that sends a streamed PUT
# to take the next chunk, between checks that the thread still runs.
_HANDOFF_POLL = 1.0


def endpoint(host):
    """``(endpoint URL, location scheme, location host)`` of s3_store_host.

    A host without a scheme is reached over http, as Glance does.
    """
    if '://' not in host:
        host = 'http://' + host
    scheme, _sep, rest = host.partition('://')
    if scheme not in ('http', 'https') or not rest.strip('/'):
        raise exception.BackendUnavailable(
            reason='s3_store_host must be an http or https URL, not %r'
                   % host)
    return (host.rstrip('/'), ('s3+https' if scheme == 'https' else 's3'),
            rest.strip('/'))


def parse_location(location):
    """``(host, bucket, key)`` of an ``s3://`` or ``s3+https://`` location.

    Credentials in it (Glance writes ``<access>:<secret>@`` before the
    host) are ignored: the store's own are used.

    :raises imageapi.common.exception.StoredDataNotFound: if it is none.
    """
    if isinstance(location, str):
        scheme, sep, rest = location.partition('://')
        if sep and scheme in ('s3', 's3+http', 's3+https'):
            rest = rest.rpartition('@')[2]
            host, _sep, path = rest.partition('/')
            bucket, _sep, key = path.partition('/')
            if host and bucket and key:
                return host, bucket, key
    raise exception.StoredDataNotFound(location=location)


def _code(exc):
    """HTTP status and S3 error code of a botocore ClientError."""
    response = exc.response
    return (response.get('ResponseMetadata', {}).get('HTTPStatusCode'),
            response.get('Error', {}).get('Code', ''))


def _translate(exc, what, location=None):
    """The imageapi exception an S3 failure during ``what`` stands for."""
    if isinstance(exc, botocore_exc.ClientError):
        status, code = _code(exc)
        if location is not None and (status == 404 or code == 'NoSuchKey'):
            return exception.StoredDataNotFound(location=location)
        if code in ('EntityTooLarge', 'QuotaExceeded') or status == 507:
            return exception.StorageFull(reason='S3 answered %s to %s'
                                         % (code, what))
        if status in (401, 403):
            return exception.StorageWriteDenied(
                reason='S3 answered %s to %s' % (code or status, what))
        return exception.BackendUnavailable(
            reason='S3 answered %s %s to %s' % (status, code, what))
    return exception.BackendUnavailable(reason='S3 failed %s: %s'
                                        % (what, exc))


class _Pipe:
    """A file-like request body that ``write`` fills and botocore reads.

    At most two chunks wait in it; ``read`` blocks until one arrives.
    """

    _END = object()

    def __init__(self):
        self._queue = queue.Queue(maxsize=2)
        self._view = memoryview(b'')
        self._ended = False
        self.broken = False

    def put(self, item, sender):
        """Hand on a chunk (or _END); raise if ``sender`` stopped reading."""
        while True:
            try:
                self._queue.put(item, timeout=_HANDOFF_POLL)
                return
            except queue.Full:
                if not sender.is_alive():
                    raise exception.BackendUnavailable(
                        reason='the PUT to S3 ended before its body')

    def read(self, size=-1):
        while not self._view and not self._ended:
            item = self._queue.get()
            if item is self._END:
                self._ended = True
            elif self.broken:
                raise exception.BackendUnavailable(
                    reason='the upload was abandoned')
            else:
                self._view = memoryview(item)
        if size is None or size < 0:
            size = self._view.nbytes
        data, self._view = self._view[:size], self._view[size:]
        return bytes(data)

    def break_off(self):
        """Make the reader fail instead of waiting for more; never blocks."""
        self.broken = True
        try:
            self._queue.put_nowait(b'')
        except queue.Full:
            pass


class _S3Writer(driver.Writer):
    """One upload: a marker object, then one streamed PUT or a multipart upload."""

    def __init__(self, driver_, image_id, size):
        self._driver = driver_
        self._s3 = driver_.client
        self._bucket = driver_.bucket
        self._image_id = image_id
        self._marker = '%s.%s' % (image_id, uuid.uuid4().hex)
        self._declared = size
        self._streamed = size is not None and size < driver_.large_object_size
        self._part_size = driver_.part_size
        self._size = 0
        self._buffer = bytearray()
        self._upload_id = None
        self._parts = []
        self._pipe = None
        self._sender = None
        self._outcome = {}

    def __enter__(self):
        try:
            self._s3.put_object(Bucket=self._bucket, Key=self._marker,
                                Body=b'')
        except (botocore_exc.BotoCoreError, botocore_exc.ClientError) as exc:
            raise _translate(exc, 'PUT of %s' % self._marker)
        if self._streamed:
            self._start_stream()
        return self

    def _start_stream(self):
        self._pipe = _Pipe()

        def send():
            try:
                self._outcome['result'] = self._s3.put_object(
                    Bucket=self._bucket, Key=self._image_id, Body=self._pipe,
                    ContentLength=self._declared, ContentType=_OCTET_STREAM)
            except Exception as exc:
                self._outcome['error'] = exc
        self._sender = threading.Thread(target=send, daemon=True,
                                        name='s3-put-%s' % self._image_id)
        self._sender.start()

    def write(self, chunk):
        """Send ``chunk`` on, or add it to the part being filled."""
        self._size += len(chunk)
        if self._streamed:
            if self._size > self._declared:
                raise exception.SizeMismatch(expected=self._declared,
                                             actual=self._size)
            try:
                self._pipe.put(bytes(chunk), self._sender)
            except exception.BackendUnavailable:
                self._raise_sender_error()
                raise
            return
        view = memoryview(chunk).cast('B')
        while view:
            room = self._part_size - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            if len(self._buffer) == self._part_size:
                self._send_part()

    def _send_part(self):
        try:
            if self._upload_id is None:
                self._upload_id = self._s3.create_multipart_upload(
                    Bucket=self._bucket, Key=self._image_id,
                    ContentType=_OCTET_STREAM)['UploadId']
            number = len(self._parts) + 1
            response = self._s3.upload_part(
                Bucket=self._bucket, Key=self._image_id, PartNumber=number,
                UploadId=self._upload_id, Body=self._buffer)
        except botocore_exc.ClientError as exc:
            if _code(exc)[1] == 'NoSuchUpload':
                # purge() aborted it: the reaper took the claim.
                raise exception.UploadLeaseLost(image_id=self._image_id)
            raise _translate(exc, 'a part of %s' % self._image_id)
        except botocore_exc.BotoCoreError as exc:
            raise _translate(exc, 'a part of %s' % self._image_id)
        self._parts.append({'ETag': response['ETag'], 'PartNumber': number})
        self._buffer = bytearray()

    def commit(self):
        """Check the marker, end the PUT or complete the multipart upload."""
        if not self._driver.exists(self._marker):
            raise exception.UploadLeaseLost(image_id=self._image_id)
        try:
            if self._streamed:
                self._finish_stream()
            elif self._upload_id is None:
                # Smaller than one part: one PUT of what was buffered.
                self._s3.put_object(Bucket=self._bucket, Key=self._image_id,
                                    Body=self._buffer,
                                    ContentType=_OCTET_STREAM)
            else:
                if self._buffer:
                    self._send_part()
                self._s3.complete_multipart_upload(
                    Bucket=self._bucket, Key=self._image_id,
                    UploadId=self._upload_id,
                    MultipartUpload={'Parts': self._parts})
        except botocore_exc.ClientError as exc:
            if _code(exc)[1] == 'NoSuchUpload':
                raise exception.UploadLeaseLost(image_id=self._image_id)
            raise _translate(exc, 'the end of the upload of %s'
                             % self._image_id)
        except botocore_exc.BotoCoreError as exc:
            raise _translate(exc, 'the end of the upload of %s'
                             % self._image_id)
        self.committed = True
        self._buffer = bytearray()
        self._driver.delete_quietly(self._marker)
        return driver.StoredImage(
            location=self._driver.location(self._image_id), size=self._size)

    def _raise_sender_error(self):
        """Raise what ended the streamed PUT early (S3 refused it), if known."""
        error = self._outcome.get('error')
        if isinstance(error, (botocore_exc.BotoCoreError,
                              botocore_exc.ClientError)):
            raise _translate(error, 'PUT of %s' % self._image_id)

    def _finish_stream(self):
        if self._size != self._declared:
            raise exception.SizeMismatch(expected=self._declared,
                                         actual=self._size)
        self._pipe.put(_Pipe._END, self._sender)
        self._sender.join()
        self._sender = None
        if 'error' in self._outcome:
            raise self._outcome['error']

    def abort(self):
        """Stop the PUT, abort the multipart upload, delete what was made."""
        self._buffer = bytearray()
        if self._sender is not None:
            self._pipe.break_off()
            self._sender.join()
            self._sender = None
        if self._streamed and 'result' in self._outcome:
            # The whole body had gone out before the upload failed.
            self._driver.delete_quietly(self._image_id)
        if self._upload_id is not None:
            self._driver.abort_quietly(self._image_id, self._upload_id)
        self._driver.delete_quietly(self._marker)


class _S3Chunks:
    """Iterator over (part of) an object, in chunks; returned by get."""

    def __init__(self, body, remaining, chunk_size):
        self._body = body
        self._remaining = remaining
        self._chunk_size = chunk_size

    def __iter__(self):
        return self

    def __next__(self):
        if self._body is None or self._remaining <= 0:
            self.close()
            raise StopIteration
        want = min(self._chunk_size, self._remaining)
        try:
            data = self._body.read(want)
        except botocore_exc.BotoCoreError as exc:
            self.close()
            raise _translate(exc, 'a download')
        if not data:
            # Fewer bytes than announced: fail rather than end short.
            self.close()
            raise exception.BackendUnavailable(
                reason='the download from S3 broke off')
        self._remaining -= len(data)
        return data

    def close(self):
        """Close the answer being read; safe to call more than once."""
        if self._body is not None:
            body, self._body = self._body, None
            body.close()


class S3Driver(driver.Driver):
    """Stores each image as the object ``<bucket>/<image_id>``."""

    capabilities = frozenset({driver.RANDOM_READ})

    def __init__(self, conf, group=s3_conf.GROUP):
        super().__init__(conf)
        if boto3 is None:
            raise exception.BackendUnavailable(
                reason='an S3 store is configured, but boto3 cannot be '
                       'imported: pip install boto3')
        opts = conf[group]
        for name in ('s3_store_host', 's3_store_access_key',
                     's3_store_secret_key', 's3_store_bucket'):
            if not opts[name]:
                raise exception.BackendUnavailable(
                    reason='[%s] %s is required for an S3 store'
                           % (group, name))
        url, self.scheme, self.host = endpoint(opts.s3_store_host)
        self.bucket = opts.s3_store_bucket
        self.create_bucket = opts.s3_store_create_bucket_on_put
        self.large_object_size = opts.s3_store_large_object_size * _MIB
        self.part_size = opts.s3_store_large_object_chunk_size * _MIB
        self.chunk_size = conf.store.chunk_size
        self._bucket_checked = False
        # NOTE: a streamed PUT body is a pipe that can be read once;
        # signing the payload (botocore does over http) reads it first, so
        # the payload goes unsigned, and no checksum beyond what S3
        # requires is computed over it.
        client_config = botocore_config.Config(
            signature_version='s3v4',
            s3={'addressing_style': opts.s3_store_bucket_url_format,
                'payload_signing_enabled': False},
            request_checksum_calculation='when_required',
            response_checksum_validation='when_required',
            retries={'max_attempts': 3, 'mode': 'standard'})
        self.client = boto3.session.Session().client(
            's3', endpoint_url=url,
            aws_access_key_id=opts.s3_store_access_key,
            aws_secret_access_key=opts.s3_store_secret_key,
            region_name='us-east-1', config=client_config)

    def properties(self):
        return {'bucket': self.bucket,
                'large_object_size': self.large_object_size,
                'large_object_chunk_size': self.part_size}

    def close(self):
        """Close the idle connections (tests; process exit)."""
        self.client.close()

    def location(self, image_id):
        return '%s://%s/%s/%s' % (self.scheme, self.host, self.bucket,
                                  image_id)

    def _parse(self, location):
        host, bucket, key = parse_location(location)
        if (host != self.host or bucket != self.bucket
                or not driver.IMAGE_ID_RE.fullmatch(key)):
            raise exception.StoredDataNotFound(location=location)
        return key

    # ---------------------------------------------------------- helpers
    def exists(self, key):
        """Whether the object ``key`` exists."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except botocore_exc.ClientError as exc:
            if _code(exc)[0] == 404:
                return False
            raise _translate(exc, 'HEAD of %s' % key)
        except botocore_exc.BotoCoreError as exc:
            raise _translate(exc, 'HEAD of %s' % key)

    def delete_quietly(self, key):
        """Delete one object on a cleanup path; True if it was there."""
        try:
            if not self.exists(key):
                return False
            self.client.delete_object(Bucket=self.bucket, Key=key)
            return True
        except Exception as exc:
            LOG.warning('Could not delete %s from S3: %s', key, exc)
            return False

    def abort_quietly(self, key, upload_id):
        """Abort one multipart upload; True if it was there."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                               UploadId=upload_id)
            return True
        except Exception as exc:
            if not (isinstance(exc, botocore_exc.ClientError)
                    and _code(exc)[1] == 'NoSuchUpload'):
                LOG.warning('Could not abort the multipart upload %s of %s: '
                            '%s', upload_id, key, exc)
            return False

    def multipart_uploads(self, key):
        """IDs of the unfinished multipart uploads of the object ``key``."""
        found = []
        kwargs = {'Bucket': self.bucket, 'Prefix': key}
        while True:
            try:
                page = self.client.list_multipart_uploads(**kwargs)
            except (botocore_exc.BotoCoreError,
                    botocore_exc.ClientError) as exc:
                raise _translate(exc, 'the listing of uploads of %s' % key)
            found.extend(upload['UploadId'] for upload in page.get(
                'Uploads', []) if upload['Key'] == key)
            if not page.get('IsTruncated'):
                return found
            kwargs['KeyMarker'] = page['NextKeyMarker']
            kwargs['UploadIdMarker'] = page['NextUploadIdMarker']

    def keys(self, prefix):
        """Names of the objects whose names start with ``prefix``."""
        paginator = self.client.get_paginator('list_objects_v2')
        try:
            return [item['Key']
                    for page in paginator.paginate(Bucket=self.bucket,
                                                   Prefix=prefix)
                    for item in page.get('Contents', [])]
        except (botocore_exc.BotoCoreError, botocore_exc.ClientError) as exc:
            raise _translate(exc, 'the listing of %s' % prefix)

    def _check_bucket(self):
        if self._bucket_checked:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except botocore_exc.ClientError as exc:
            if _code(exc)[0] != 404:
                raise _translate(exc, 'HEAD of bucket %s' % self.bucket)
            if not self.create_bucket:
                raise exception.BackendUnavailable(
                    reason='the S3 bucket %s does not exist' % self.bucket)
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except botocore_exc.ClientError as exc:
                if _code(exc)[1] not in ('BucketAlreadyOwnedByYou',):
                    raise _translate(exc, 'the creation of bucket %s'
                                     % self.bucket)
        except botocore_exc.BotoCoreError as exc:
            raise _translate(exc, 'HEAD of bucket %s' % self.bucket)
        self._bucket_checked = True

    # ------------------------------------------------------------ driver
    def writer(self, image_id, size=None):
        """A writer of the object ``image_id``; see Driver.writer."""
        driver.check_image_id(image_id)
        self._check_bucket()
        if self.exists(image_id):
            raise exception.Duplicate(image_id=image_id)
        return _S3Writer(self, image_id, size)

    def get(self, location, offset=0, length=None):
        """Stream (a range of) the object at ``location``; see Driver.get."""
        if offset < 0 or (length is not None and length < 0):
            raise exception.InvalidRange(
                reason='offset and length must not be negative')
        key = self._parse(location)
        if length == 0:
            self.get_size(location)
            return _S3Chunks(None, 0, self.chunk_size)
        kwargs = {'Bucket': self.bucket, 'Key': key}
        if offset or length is not None:
            end = '' if length is None else '%d' % (offset + length - 1)
            kwargs['Range'] = 'bytes=%d-%s' % (offset, end)
        try:
            response = self.client.get_object(**kwargs)
        except botocore_exc.ClientError as exc:
            if _code(exc)[0] == 416:
                # At or past the end (the object exists, else 404).
                return _S3Chunks(None, 0, self.chunk_size)
            raise _translate(exc, 'GET of %s' % key, location)
        except botocore_exc.BotoCoreError as exc:
            raise _translate(exc, 'GET of %s' % key)
        return _S3Chunks(response['Body'], response['ContentLength'],
                         self.chunk_size)

    def get_size(self, location):
        """HEAD the object at ``location``; see Driver.get_size."""
        key = self._parse(location)
        try:
            return self.client.head_object(Bucket=self.bucket,
                                           Key=key)['ContentLength']
        except (botocore_exc.BotoCoreError, botocore_exc.ClientError) as exc:
            raise _translate(exc, 'HEAD of %s' % key, location)

    def delete(self, location):
        """Delete the object at ``location``; see Driver.delete."""
        key = self._parse(location)
        self.get_size(location)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (botocore_exc.BotoCoreError, botocore_exc.ClientError) as exc:
            raise _translate(exc, 'DELETE of %s' % key, location)

    def purge(self, image_id):
        """Delete the object, markers and multipart uploads of ``image_id``."""
        driver.check_image_id(image_id)
        removed = int(self.delete_quietly(image_id))
        for key in self.keys(image_id + '.'):
            removed += self.delete_quietly(key)
        for upload_id in self.multipart_uploads(image_id):
            removed += self.abort_quietly(image_id, upload_id)
        return removed
