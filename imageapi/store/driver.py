"""The store driver contract: the Driver base class and its StoredImage.

api/v2/image_data.py calls drivers only through this interface;
store/filesystem.py and store/swift.py implement it, and
store.get_driver(conf) picks one.
"""

import abc
import dataclasses


@dataclasses.dataclass(frozen=True)
class StoredImage:
    """Where a driver put image data, and what it measured writing it.

    :ivar location: URL of the data, such as
        ``file:///var/lib/imageapi/images/<image_id>``; the only handle that
        ``get``, ``get_size`` and ``delete`` accept.
    :ivar size: number of bytes stored.
    :ivar checksum: md5 hex digest of the stored bytes.
    :ivar hash_algo: hashlib name of the os_hash_algo, such as 'sha512'.
    :ivar hash_value: ``hash_algo`` hex digest of the stored bytes.
    """

    location: str
    size: int
    checksum: str
    hash_algo: str
    hash_value: str


class Driver(metaclass=abc.ABCMeta):
    """Base class of store drivers; one instance serves many requests.

    ``capabilities`` names optional features, such as 'random_read' for a
    ``get`` that honours ``offset`` without reading the bytes before it.
    """

    capabilities = frozenset()

    def __init__(self, conf):
        """Keep ``conf``, a ``ConfigOpts`` with imageapi's options."""
        self.conf = conf

    @abc.abstractmethod
    def add(self, image_id, reader, size=None):
        """Store the data of one image, read from ``reader``, durably.

        Reads ``[store] chunk_size`` bytes at a time and hashes them in the
        same pass. The data becomes visible at its location only once it is
        complete: on any failure, including an exception raised by
        ``reader``, nothing is left behind.

        :param image_id: the image ID; it names the data in the store.
        :param reader: object with a ``read(n)`` method, such as a
            LimitingReader; exceptions it raises propagate unchanged.
        :param size: the declared size in bytes, or None when unknown.
        :returns: a StoredImage.
        :raises imageapi.common.exception.SizeMismatch: if ``size`` was given
            and the body was shorter or longer. A longer body is detected by
            reading at most one chunk past ``size``, never to its end.
        :raises imageapi.common.exception.Duplicate: if data for
            ``image_id`` already exists; that data is left untouched.
        :raises imageapi.common.exception.StorageFull: if the store is out
            of space or quota.
        :raises imageapi.common.exception.StorageWriteDenied: if the store
            refuses the write.
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

        :param location: a StoredImage location written by this driver.
        :returns: the size, an int.
        :raises imageapi.common.exception.StoredDataNotFound: if there is no
            data at ``location``, or it is no location of this driver.
        """

    @abc.abstractmethod
    def delete(self, location):
        """Delete the data at ``location``.

        :param location: a StoredImage location written by this driver.
        :raises imageapi.common.exception.StoredDataNotFound: if there is no
            data at ``location``, or it is no location of this driver.
        """

    @abc.abstractmethod
    def discard_partial(self, image_id):
        """Remove what unfinished uploads of ``image_id`` left behind.

        ``add`` cleans up after itself unless its process dies; a reaper
        calls this for images stuck in ``saving`` whose uploader is gone.
        Calling it while an upload of the image runs makes that upload fail.
        Safe to call when there is nothing to remove; the stored data of the
        image is never touched.

        :param image_id: the image ID that was given to ``add``.
        :returns: the number of leftovers removed.
        :raises imageapi.common.exception.InvalidParameterValue: if
            ``image_id`` cannot name data in this store.
        """
