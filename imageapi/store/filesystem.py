"""FilesystemDriver: one file per image under ``[filesystem_store] datadir``.

Uploads go to a temp file in ``<datadir>/.tmp`` (``_FileWriter``), are fsynced and
then hard-linked to ``<datadir>/<image_id>``, so a file under a final name is always
complete. store.get_driver loads this driver as 'file'.
"""

import contextlib
import errno
import os
import re
import uuid

from oslo_log import log as logging
from oslo_utils import excutils

from imageapi.common import exception
from imageapi.common import streams
from imageapi.store import driver

LOG = logging.getLogger(__name__)

# System calls that tests count or make fail, looked up through these names.
_open = os.open
_write = os.write
_fsync = os.fsync
_fdatasync = os.fdatasync
_link = os.link

_LOCATION_PREFIX = 'file://'
_TMP_DIRNAME = '.tmp'
_DIR_MODE = 0o750
_FILE_MODE = 0o600

# NOTE: image IDs become file names, so they may hold no '/', '.' or NUL:
# every path stays inside datadir, and '<image_id>.' is an unambiguous
# prefix of temp names.
_IMAGE_ID_RE = re.compile(r'[A-Za-z0-9_-]{1,200}')

_FULL_ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG))
_DENIED_ERRNOS = frozenset((errno.EACCES, errno.EPERM, errno.EROFS))


@contextlib.contextmanager
def _os_errors(location=None):
    """Translate OSError into the exception tree; other errnos pass as is.

    :param location: if given, ENOENT becomes StoredDataNotFound for it.
    """
    try:
        yield
    except OSError as e:
        if e.errno == errno.ENOENT and location is not None:
            raise exception.StoredDataNotFound(location=location) from e
        # os.strerror, not str(e): the message reaches clients, the path
        # must not.
        if e.errno in _FULL_ERRNOS:
            raise exception.StorageFull(reason=os.strerror(e.errno)) from e
        if e.errno in _DENIED_ERRNOS:
            raise exception.StorageWriteDenied(
                reason=os.strerror(e.errno)) from e
        raise


def _check_image_id(image_id):
    if not isinstance(image_id, str) or not _IMAGE_ID_RE.fullmatch(image_id):
        raise exception.InvalidParameterValue(
            value=image_id, param='image_id',
            reason='only letters, digits, "-" and "_" may name stored data')


def _unlink_quietly(path):
    """Unlink ``path`` on a cleanup path, where errors must not mask others."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        LOG.warning('Could not remove %s: %s', path, e)


class _FileWriter(driver.Writer):
    """One upload's temp file ``<datadir>/.tmp/<image_id>.<uuid4 hex>``.

    The file is created on ``__enter__``; ``commit`` fsyncs it and links it
    to its final name; leaving the ``with`` block unlinks the temp name
    either way (after a commit the data keeps its final name).
    """

    def __init__(self, driver_, image_id, final):
        self._driver = driver_
        self._image_id = image_id
        self._final = final
        self.path = os.path.join(driver_.tmpdir, '%s.%s'
                                 % (image_id, uuid.uuid4().hex))
        self._fd = None
        self._size = 0
        self._fsync = driver_.fsync
        self._sync_interval = driver_.sync_interval if driver_.fsync else 0
        self._unsynced = 0

    def __enter__(self):
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        with _os_errors():
            os.makedirs(self._driver.datadir, mode=_DIR_MODE, exist_ok=True)
            os.makedirs(self._driver.tmpdir, mode=_DIR_MODE, exist_ok=True)
            self._fd = _open(self.path, flags, _FILE_MODE)
        return self

    def __exit__(self, exc_type, exc, tb):
        # Also after a commit: that drops only the temp name.
        self.abort()

    def write(self, chunk):
        """Write all of ``chunk``; fdatasync every ``sync_interval`` bytes."""
        view = memoryview(chunk)
        self._size += view.nbytes
        self._unsynced += view.nbytes
        with _os_errors():
            while view:
                written = _write(self._fd, view)
                if not written:
                    # NOTE: a filesystem that takes nothing and reports no
                    # error (FUSE can) would make this loop spin forever.
                    raise OSError(errno.EIO, 'write accepted no bytes')
                view = view[written:]
            if self._sync_interval and self._unsynced >= self._sync_interval:
                # Bounds the dirty pages of a large upload, so that the final
                # fsync does not stall on gigabytes at once.
                _fdatasync(self._fd)
                self._unsynced = 0

    def commit(self):
        """fsync, link to the final name, fsync datadir; see Writer.commit."""
        with _os_errors():
            # The data must be on disk before a name makes it visible, so
            # that after a crash a linked file is always complete.
            if self._fsync:
                _fsync(self._fd)
            fd, self._fd = self._fd, None
            os.close(fd)
            try:
                # NOTE: link, unlike rename, fails with EEXIST instead of
                # replacing data that a concurrent upload already stored.
                _link(self.path, self._final)
            except FileExistsError:
                raise exception.Duplicate(image_id=self._image_id) from None
            except FileNotFoundError:
                # purge() removed the temp file: the reaper took the claim.
                raise exception.UploadLeaseLost(
                    image_id=self._image_id) from None
        self._driver.sync_datadir(self._final)
        self.committed = True
        return driver.StoredImage(location=_LOCATION_PREFIX + self._final,
                                  size=self._size)

    def abort(self):
        """Close the file if open and unlink the temp name; never raises."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError as e:
                LOG.warning('Could not close %s: %s', self.path, e)
        _unlink_quietly(self.path)


class FilesystemDriver(driver.Driver):
    """Stores each image as ``<datadir>/<image_id>``, via a temp file."""

    capabilities = frozenset({driver.RANDOM_READ})

    def __init__(self, conf, group=None):
        """A file store in ``[filesystem_store] datadir``.

        :param group: a multi-store backend id: its own
            ``filesystem_store_datadir`` instead.
        """
        super().__init__(conf)
        datadir = conf.filesystem_store.datadir
        if group is not None:
            datadir = conf[group].filesystem_store_datadir
            if not datadir:
                raise exception.BackendUnavailable(
                    reason='[%s] filesystem_store_datadir is not set' % group)
        self.datadir = os.path.abspath(datadir)
        self.tmpdir = os.path.join(self.datadir, _TMP_DIRNAME)
        self.fsync = conf.filesystem_store.fsync
        self.sync_interval = conf.filesystem_store.sync_interval
        self._chunk_size = conf.store.chunk_size

    def properties(self):
        return {'data_dir': self.datadir, 'chunk_size': self._chunk_size,
                'thin_provisioning': False}

    def writer(self, image_id, size=None):
        """A writer to a temp file in ``<datadir>/.tmp``; see Driver.writer."""
        _check_image_id(image_id)
        final = os.path.join(self.datadir, image_id)
        # Fails before the body is read; the link in commit is the real check.
        if os.path.lexists(final):
            raise exception.Duplicate(image_id=image_id)
        return _FileWriter(self, image_id, final)

    def sync_datadir(self, final):
        """fsync datadir, so that the new name ``final`` survives a crash.

        On failure ``final`` is removed: the caller reports the upload as
        failed, and a retry must not then meet Duplicate.
        """
        if not self.fsync:
            return
        try:
            with _os_errors():
                fd = os.open(self.datadir, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    _fsync(fd)
                finally:
                    os.close(fd)
        except BaseException:
            with excutils.save_and_reraise_exception():
                _unlink_quietly(final)

    def _path(self, location):
        """Return the file path of ``location`` if it names data in datadir.

        :raises imageapi.common.exception.StoredDataNotFound: otherwise, so
            that no crafted or foreign location reaches the filesystem.
        """
        if (isinstance(location, str)
                and location.startswith(_LOCATION_PREFIX)):
            path = location[len(_LOCATION_PREFIX):]
            prefix = os.path.join(self.datadir, '')
            # NOTE: compared as strings, never resolved: '..', '.tmp', a
            # doubled slash or another directory do not match.
            if (path.startswith(prefix)
                    and _IMAGE_ID_RE.fullmatch(path[len(prefix):])):
                return path
        raise exception.StoredDataNotFound(location=location)

    def get(self, location, offset=0, length=None):
        """Open the file at ``location``; see Driver.get."""
        if offset < 0 or (length is not None and length < 0):
            raise exception.InvalidRange(
                reason='offset and length must not be negative')
        path = self._path(location)
        with _os_errors(location):
            fileobj = open(path, 'rb', buffering=0)
        try:
            fileobj.seek(offset)
        except BaseException:
            with excutils.save_and_reraise_exception():
                fileobj.close()
        return streams.FileChunks(fileobj, self._chunk_size, length)

    def get_size(self, location):
        """Return the size of the file at ``location``; see Driver.get_size."""
        path = self._path(location)
        with _os_errors(location):
            return os.stat(path).st_size

    def delete(self, location):
        """Unlink the file at ``location``; see Driver.delete."""
        path = self._path(location)
        with _os_errors(location):
            os.unlink(path)

    def purge(self, image_id):
        """Unlink the temp files and the file of ``image_id``; see Driver.purge.

        Only names this driver creates match: ``<image_id>.<uuid4 hex>`` in
        .tmp, and ``<image_id>``.
        """
        _check_image_id(image_id)
        pattern = re.compile(re.escape(image_id) + r'\.[0-9a-f]{32}')
        try:
            with _os_errors():
                names = [os.path.join(self.tmpdir, name)
                         for name in os.listdir(self.tmpdir)
                         if pattern.fullmatch(name)]
        except FileNotFoundError:
            names = []
        removed = 0
        for path in names + [os.path.join(self.datadir, image_id)]:
            try:
                with _os_errors():
                    os.unlink(path)
            except FileNotFoundError:
                # Never there, or another reaper removed it first.
                continue
            removed += 1
        return removed
