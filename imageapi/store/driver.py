"""The store driver contract: the Driver and Writer base classes and StoredImage.

api/v2/image_data.py and api/v2/images.py call drivers only through this interface.
A driver only moves bytes: the upload stream (common/streams.py UploadStream) has
already counted, capped, reserved quota for, inspected and hashed every chunk it
writes. store/filesystem.py implements it; store.get_driver(conf) loads the configured
driver. imageapi/tests/unit/store/contract.py is the shared test suite every driver runs.
"""

import abc
import dataclasses
import re

from imageapi.common import exception

# Capabilities the API consults (Driver.capabilities).
# ``get`` honours ``offset`` without reading the bytes before it: Range
# requests are answered 206. Without it the API answers them with the whole
# image (200), as HTTP allows.
RANDOM_READ = 'random_read'

# NOTE: image IDs name stored data and start the names of the pieces of
# unfinished uploads: with no '.' in them, '<image_id>.' is a prefix of no
# other image's names.
IMAGE_ID_RE = re.compile(r'[A-Za-z0-9_-]{1,200}')


def check_image_id(image_id):
    """Refuse an image ID that cannot name data in a store.

    :raises imageapi.common.exception.InvalidParameterValue: unless it is
        1 to 200 letters, digits, "-" and "_".
    """
    if not isinstance(image_id, str) or not IMAGE_ID_RE.fullmatch(image_id):
        raise exception.InvalidParameterValue(
            value=image_id, param='image_id',
            reason='only letters, digits, "-" and "_" may name stored data')


@dataclasses.dataclass(frozen=True)
class StoredImage:
    """Where a driver put the data of one image.

    :ivar location: URL of the data, such as
        ``file:///var/lib/imageapi/images/<image_id>``; the only handle that
        ``get``, ``get_size`` and ``delete`` accept.
    :ivar size: number of bytes stored.
    """

    location: str
    size: int


class Writer(metaclass=abc.ABCMeta):
    """The data of one image on its way into the store; see Driver.writer.

    Used as a context manager: leaving the ``with`` block without a
    successful ``commit`` (an exception, or no commit at all) calls
    ``abort``, which removes everything written.
    """

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.committed:
            self.abort()

    committed = False

    @abc.abstractmethod
    def write(self, chunk):
        """Write ``chunk`` (bytes or bytearray, never changed afterwards).

        :raises imageapi.common.exception.StorageFull: out of space or quota.
        :raises imageapi.common.exception.StorageWriteDenied: the store
            refuses the write.
        """

    @abc.abstractmethod
    def commit(self):
        """Make what was written durable and visible at its location.

        Sets ``committed``; on failure nothing stays visible.

        :returns: a StoredImage.
        :raises imageapi.common.exception.Duplicate: data for the image
            appeared meanwhile; that data is left untouched.
        :raises imageapi.common.exception.UploadLeaseLost: what was written
            is gone (``purge`` ran: the upload lost its claim).
        """

    @abc.abstractmethod
    def abort(self):
        """Remove whatever was written; never raises."""


class Driver(metaclass=abc.ABCMeta):
    """Base class of store drivers; one instance serves many requests.

    ``capabilities`` is a frozenset of the names defined in this module that
    the driver offers.
    """

    capabilities = frozenset()

    def __init__(self, conf):
        """Keep ``conf``, a ``ConfigOpts`` with imageapi's options."""
        self.conf = conf

    def add(self, image_id, chunks, size=None):
        """Store the data of one image, chunk by chunk, durably.

        The data becomes visible at its location only once ``chunks`` ended
        without an exception; on any failure, including an exception raised
        by ``chunks``, nothing is left behind.

        :param image_id: the image ID; it names the data in the store.
        :param chunks: iterable of bytes-like chunks, such as an
            UploadStream; exceptions it raises propagate unchanged.
        :param size: the expected size in bytes, or None when unknown; a
            hint (the stream enforces it).
        :returns: a StoredImage.
        :raises: what ``writer``, ``Writer.write`` and ``Writer.commit`` raise.
        """
        with self.writer(image_id, size) as writer:
            for chunk in chunks:
                writer.write(chunk)
            return writer.commit()

    def properties(self):
        """What GET /v2/info/stores/detail shows of this store's settings."""
        return {}

    @abc.abstractmethod
    def writer(self, image_id, size=None):
        """Start storing the data of ``image_id``.

        :param size: the expected size in bytes, or None when unknown.
        :returns: a Writer.
        :raises imageapi.common.exception.Duplicate: data for ``image_id``
            exists already; checked before anything is written.
        :raises imageapi.common.exception.InvalidParameterValue: if
            ``image_id`` cannot name data in this store.
        """

    @abc.abstractmethod
    def get(self, location, offset=0, length=None):
        """Open stored data for reading.

        :param location: a StoredImage location written by this driver.
        :param offset: the first byte to return.
        :param length: the most bytes to return, or None to read to the end.
        :returns: an iterable of bytes chunks of at most
            ``[store] chunk_size`` bytes, with a ``close()`` method the
            caller must call (WSGI servers do for an ``app_iter``). An
            ``offset`` at or past the end gives no chunks. File-backed
            drivers also set its ``file`` attribute to the open file,
            positioned at ``offset``, so that the API can hand it to the
            server's ``wsgi.file_wrapper`` (sendfile) instead.
        :raises imageapi.common.exception.StoredDataNotFound: if there is no
            data at ``location``, or it is no location of this driver.
        :raises imageapi.common.exception.InvalidRange: if ``offset`` or
            ``length`` is negative.
        """

    @abc.abstractmethod
    def get_size(self, location):
        """Return the size in bytes of the data at ``location``.

        :raises imageapi.common.exception.StoredDataNotFound: if there is no
            data at ``location``, or it is no location of this driver.
        """

    @abc.abstractmethod
    def delete(self, location):
        """Delete the data at ``location``.

        :raises imageapi.common.exception.StoredDataNotFound: if there is no
            data at ``location``, or it is no location of this driver.
        """

    def in_use(self, location):
        """Whether the data at ``location`` may not be deleted now.

        The API asks before it deletes an image record, so that an image
        whose data others still depend on (RBD clones of its snapshot)
        answers 409 and keeps both record and data.
        """
        return False

    @abc.abstractmethod
    def purge(self, image_id):
        """Remove everything the store holds under the name of ``image_id``.

        For an image that has no recorded data: what unfinished uploads left
        (a Writer cleans up after itself unless its process dies), and data
        that was committed but never recorded because the database failed.
        The reaper (imageapi/leases.py) calls it after returning an upload
        to queued, the API after deleting an image that had no data yet.
        Calling it while an upload of the image runs makes that upload fail.
        Safe to call when there is nothing to remove.

        :returns: the number of pieces removed.
        :raises imageapi.common.exception.InvalidParameterValue: if
            ``image_id`` cannot name data in this store.
        """
