"""RBDDriver: image data as Ceph RBD images, loaded as the 'rbd' driver.

Each image is an RBD image named by the image ID in ``rbd_store_pool``, with a
protected snapshot ``snap`` taken when the upload ends; the location is Glance's
``rbd://<fsid>/<pool>/<image ID>/snap``, so that Nova and Cinder set up for Glance's RBD
store clone it copy-on-write. Every upload first writes an empty RADOS object
``imageapi_upload.<image ID>`` beside it: ``purge`` removes it, and an upload whose
marker is gone fails at commit and removes its RBD image (purge moves an image that an
upload holds open to the pool's trash, see ``_trash_busy``). The ``rados`` and ``rbd``
bindings are Debian's (python3-rados, python3-rbd), imported only when an RBD store is
configured.
"""

import collections
import errno
import os
import threading
import urllib.parse
import uuid

from oslo_log import log as logging

from imageapi.common import exception
from imageapi.conf import rbd_store as rbd_conf
from imageapi.store import driver

try:
    import rados
    import rbd
except ImportError:  # the store is optional: see RBDDriver.__init__
    rados = rbd = None

LOG = logging.getLogger(__name__)

_MIB = 1024 * 1024
_SCHEME = 'rbd://'
SNAPSHOT = 'snap'
MARKER_PREFIX = 'imageapi_upload.'
PURGED_PREFIX = 'imageapi_purged.'
# Asynchronous writes in flight per upload (each holds one chunk), as `rbd
# import` keeps several: one synchronous write at a time waits a full round
# trip to the OSDs per chunk.
_WRITES_IN_FLIGHT = 4
# An image of unknown size grows by doubling, by at most this much a step,
# and is trimmed to what was written at the end (as glance_store does).
_MAX_GROWTH = 8 * 1024 * _MIB


def _order(chunk_size_mib):
    """log2 of the RADOS object size: rbd_store_chunk_size rounded down."""
    return (chunk_size_mib * _MIB).bit_length() - 1


def parse_location(location):
    """Return ``(fsid, pool, image, snapshot)`` of an ``rbd://`` location.

    :raises imageapi.common.exception.StoredDataNotFound: if ``location``
        is not of the form ``rbd://<fsid>/<pool>/<image>/<snapshot>``.
    """
    if isinstance(location, str) and location.startswith(_SCHEME):
        parts = location[len(_SCHEME):].split('/')
        if len(parts) == 4 and all(parts):
            return tuple(urllib.parse.unquote(part) for part in parts)
    raise exception.StoredDataNotFound(location=location)


def _ignore(_completion):
    """aio_write wants a callback; the writer waits for completions itself."""


def _translate_errno(code, what):
    """The imageapi exception a failed asynchronous write (-errno) stands for."""
    text = '%s: %s' % (what, os.strerror(code))
    if code in (errno.ENOSPC, errno.EDQUOT):
        return exception.StorageFull(reason='Ceph is full: %s' % text)
    if code in (errno.EACCES, errno.EPERM):
        return exception.StorageWriteDenied(reason=text)
    return exception.BackendUnavailable(reason='Ceph failed %s' % text)


def _translate(exc, what):
    """The imageapi exception a rados/rbd error during ``what`` stands for."""
    if isinstance(exc, (rbd.NoSpace, rados.NoSpace)):
        return exception.StorageFull(reason='Ceph is full: %s' % exc)
    if isinstance(exc, (rbd.PermissionError, rados.PermissionError)):
        return exception.StorageWriteDenied(reason='%s: %s' % (what, exc))
    return exception.BackendUnavailable(reason='Ceph failed %s: %s'
                                        % (what, exc))


class _RBDWriter(driver.Writer):
    """One upload into the RBD image ``<image_id>`` (created by RBDDriver.writer)."""

    def __init__(self, driver_, ioctx, image_id, size):
        self._driver = driver_
        self._ioctx = ioctx
        self._image_id = image_id
        self._marker = MARKER_PREFIX + image_id
        self._declared = size
        self._capacity = size or 0
        self._size = 0
        self._thin = driver_.thin_provisioning
        self._image = rbd.Image(ioctx, image_id)
        # purge() may move this image away under its feet (see purge);
        # the RBD id, unlike the name, stays this image's.
        self._rbd_id = self._image.id()
        self._pending = collections.deque()

    def write(self, chunk):
        """Write ``chunk`` at the end of what was written; grow if needed."""
        length = len(chunk)
        end = self._size + length
        try:
            if end > self._capacity:
                self._grow(end)
            data = bytes(chunk)
            if not (self._thin and not data.strip(b'\0')):
                # The data stays referenced until its write completed.
                self._pending.append((self._image.aio_write(
                    data, self._size, _ignore), data))
            self._wait(_WRITES_IN_FLIGHT - 1)
        except (rados.Error, rbd.Error) as exc:
            raise _translate(exc, 'a write to RBD image %s' % self._image_id)
        self._size = end

    def _wait(self, keep):
        """Wait until at most ``keep`` writes are in flight; raise if one failed."""
        while len(self._pending) > keep:
            completion, _data = self._pending.popleft()
            completion.wait_for_complete_and_cb()
            result = completion.get_return_value()
            if result < 0:
                raise _translate_errno(-result, 'a write to RBD image %s'
                                       % self._image_id)

    def _grow(self, needed):
        step = min(max(self._capacity, self._driver.object_size), _MAX_GROWTH)
        self._capacity = max(needed, self._capacity + step)
        self._image.resize(self._capacity)

    def commit(self):
        """Trim, snapshot and protect the RBD image; see Writer.commit."""
        try:
            self._ioctx.stat(self._marker)
        except rados.ObjectNotFound:
            # purge() ran: the reaper took the claim on this upload.
            raise exception.UploadLeaseLost(image_id=self._image_id)
        except rados.Error as exc:
            raise _translate(exc, 'to check the upload marker of %s'
                             % self._image_id)
        try:
            self._wait(0)
            if self._capacity != self._size:
                self._image.resize(self._size)
            self._image.flush()
            self._image.create_snap(SNAPSHOT)
            self._image.protect_snap(SNAPSHOT)
            self._image.close()
        except (rados.Error, rbd.Error) as exc:
            raise _translate(exc, 'the snapshot of RBD image %s'
                             % self._image_id)
        self.committed = True
        self._driver.remove_marker(self._ioctx, self._marker)
        self._ioctx.close()
        return driver.StoredImage(
            location=self._driver.location(self._image_id), size=self._size)

    def abort(self):
        """Close and remove the RBD image and the marker; never raises."""
        try:
            for completion, _data in self._pending:
                completion.wait_for_complete_and_cb()
            self._pending.clear()
            self._image.close()
            self._driver.remove_by_id(self._ioctx, self._image_id,
                                      self._rbd_id)
        except Exception:
            LOG.exception('Could not remove RBD image %s of a failed upload',
                          self._image_id)
        self._driver.remove_marker(self._ioctx, self._marker)
        self._ioctx.close()


class _RBDChunks:
    """Iterator over (part of) the snapshot of an RBD image; returned by get."""

    def __init__(self, ioctx, image, offset, end, chunk_size):
        self._ioctx = ioctx
        self._image = image
        self._position = offset
        self._end = end
        self._chunk_size = chunk_size

    def __iter__(self):
        return self

    def __next__(self):
        if self._image is None or self._position >= self._end:
            self.close()
            raise StopIteration
        want = min(self._chunk_size, self._end - self._position)
        try:
            data = self._image.read(self._position, want)
        except (rados.Error, rbd.Error) as exc:
            self.close()
            raise _translate(exc, 'a read from RBD')
        if len(data) != want:
            self.close()
            raise exception.BackendUnavailable(
                reason='RBD returned %d bytes where %d were expected'
                       % (len(data), want))
        self._position += want
        return data

    def close(self):
        """Close the RBD image and its pool; safe to call more than once."""
        if self._image is not None:
            image, self._image = self._image, None
            image.close()
            self._ioctx.close()


class RBDDriver(driver.Driver):
    """Stores each image as the RBD image ``<pool>/<image_id>`` with snapshot ``snap``."""

    capabilities = frozenset({driver.RANDOM_READ})

    def __init__(self, conf, group=rbd_conf.GROUP):
        super().__init__(conf)
        if rbd is None:
            raise exception.BackendUnavailable(
                reason='an RBD store is configured, but the Python modules '
                       'rados and rbd cannot be imported: install Debian\'s '
                       'python3-rados and python3-rbd and make them '
                       'importable from this Python (README.rst, "Ceph RBD '
                       'store")')
        opts = conf[group]
        self.pool = opts.rbd_store_pool
        self.user = opts.rbd_store_user
        self.ceph_conf = opts.rbd_store_ceph_conf
        self.order = _order(opts.rbd_store_chunk_size)
        self.object_size = 1 << self.order
        self.connect_timeout = opts.rados_connect_timeout
        self.thin_provisioning = opts.rbd_thin_provisioning
        self.chunk_size = conf.store.chunk_size
        self._cluster = None
        self._fsid = None
        self._lock = threading.Lock()

    def properties(self):
        return {'pool': self.pool, 'chunk_size': self.object_size,
                'thin_provisioning': self.thin_provisioning}

    # ------------------------------------------------------- connection
    def _connect(self):
        """The connected cluster handle, made on first use and then kept."""
        with self._lock:
            if self._cluster is None:
                cluster = rados.Rados(conffile=self.ceph_conf,
                                      rados_id=self.user)
                try:
                    if self.connect_timeout:
                        cluster.connect(timeout=self.connect_timeout)
                    else:
                        cluster.connect()
                    self._fsid = cluster.get_fsid()
                except rados.Error as exc:
                    cluster.shutdown()
                    raise _translate(exc, 'to connect')
                self._cluster = cluster
            return self._cluster

    def open_pool(self):
        """A new ioctx on ``rbd_store_pool``; the caller closes it."""
        cluster = self._connect()
        try:
            return cluster.open_ioctx(self.pool)
        except rados.ObjectNotFound:
            raise exception.BackendUnavailable(
                reason='the Ceph pool %s does not exist' % self.pool)
        except rados.Error as exc:
            raise _translate(exc, 'to open pool %s' % self.pool)

    def close(self):
        """Disconnect from the cluster (tests; process exit)."""
        with self._lock:
            if self._cluster is not None:
                self._cluster.shutdown()
                self._cluster = None

    # -------------------------------------------------------- locations
    def location(self, image_id):
        self._connect()
        quote = lambda part: urllib.parse.quote(part, '')  # noqa: E731
        return '%s%s/%s/%s/%s' % (_SCHEME, quote(self._fsid),
                                  quote(self.pool), quote(image_id), SNAPSHOT)

    def _parse(self, location):
        """The image name of one of this driver's locations.

        :raises imageapi.common.exception.StoredDataNotFound: for another
            cluster, pool, snapshot name, or a name that is no image ID.
        """
        fsid, pool, image, snapshot = parse_location(location)
        self._connect()
        if (fsid != self._fsid or pool != self.pool or snapshot != SNAPSHOT
                or not driver.IMAGE_ID_RE.fullmatch(image)):
            raise exception.StoredDataNotFound(location=location)
        return image

    def _open_snapshot(self, ioctx, location):
        name = self._parse(location)
        try:
            return rbd.Image(ioctx, name, snapshot=SNAPSHOT, read_only=True)
        except (rbd.ImageNotFound, rbd.ObjectNotFound):
            raise exception.StoredDataNotFound(location=location)
        except (rados.Error, rbd.Error) as exc:
            raise _translate(exc, 'to open RBD image %s' % name)

    # ----------------------------------------------------------- upload
    def writer(self, image_id, size=None):
        """Create the RBD image of ``image_id``; see Driver.writer."""
        driver.check_image_id(image_id)
        marker = MARKER_PREFIX + image_id
        ioctx = self.open_pool()
        created = False
        try:
            ioctx.write_full(marker, b'')
            rbd.RBD().create(ioctx, image_id, size or 0, order=self.order,
                             old_format=False)
            created = True
            return _RBDWriter(self, ioctx, image_id, size)
        except BaseException as exc:
            if created:
                self._remove_quietly(ioctx, image_id)
            self.remove_marker(ioctx, marker)
            ioctx.close()
            if isinstance(exc, rbd.ImageExists):
                raise exception.Duplicate(image_id=image_id)
            if isinstance(exc, (rados.Error, rbd.Error)):
                raise _translate(exc, 'to create RBD image %s' % image_id)
            raise

    def _remove_quietly(self, ioctx, name):
        try:
            rbd.RBD().remove(ioctx, name)
        except (rados.Error, rbd.Error) as exc:
            LOG.warning('Could not remove RBD image %s: %s', name, exc)

    def remove_marker(self, ioctx, marker):
        """Remove an upload marker; True if it was there. Never raises."""
        try:
            ioctx.remove_object(marker)
            return True
        except rados.ObjectNotFound:
            return False
        except rados.Error as exc:
            LOG.warning('Could not remove RADOS object %s: %s', marker, exc)
            return False

    def remove_image(self, ioctx, name):
        """Unprotect and remove the snapshot, then remove the RBD image.

        :returns: False if there was no such image.
        :raises rbd.ImageBusy: if the snapshot has clones or another client
            has the image open (a running upload); rbd.ImageHasSnapshots
            if it has snapshots of others. Nothing is removed then.
        """
        try:
            with rbd.Image(ioctx, name) as image:
                snaps = {snap['name'] for snap in image.list_snaps()}
                if SNAPSHOT in snaps:
                    if image.is_protected_snap(SNAPSHOT):
                        image.unprotect_snap(SNAPSHOT)
                    image.remove_snap(SNAPSHOT)
        except (rbd.ImageNotFound, rbd.ObjectNotFound):
            # Missing, or listed without a header: a process killed while
            # it created (or removed) the image. RBD.remove clears that.
            pass
        try:
            rbd.RBD().remove(ioctx, name)
        except (rbd.ImageNotFound, rbd.ObjectNotFound):
            return False
        return True

    def remove_by_id(self, ioctx, name, rbd_id):
        """Remove the unfinished RBD image whose RBD id is ``rbd_id``.

        It is at ``name``, or in the trash if purge moved it there; the
        image now at ``name`` may be another upload's, and is left alone.
        """
        try:
            with rbd.Image(ioctx, name, read_only=True) as image:
                here = image.id() == rbd_id
        except (rbd.ImageNotFound, rbd.ObjectNotFound):
            here = False
        if here:
            rbd.RBD().remove(ioctx, name)
            return
        try:
            rbd.RBD().trash_remove(ioctx, rbd_id, force=True)
        except (rbd.ImageNotFound, rbd.ObjectNotFound):
            pass

    def _trash_busy(self, ioctx, name):
        """Move an RBD image an upload holds open out of the way; 1 if done.

        Renamed ``imageapi_purged.<image ID>.<random>`` and moved to the
        pool's trash: the image ID is free for a new upload at once. A
        running upload removes it when it fails; one whose process died
        left a watch that Ceph drops after osd_client_watch_timeout (30 s),
        and a later purge (_empty_trash) or ``rbd trash purge`` removes it.
        """
        hidden = '%s%s.%s' % (PURGED_PREFIX, name, uuid.uuid4().hex[:8])
        try:
            rbd.RBD().rename(ioctx, name, hidden)
            rbd.RBD().trash_move(ioctx, hidden, 0)
        except (rados.Error, rbd.Error) as exc:
            LOG.warning('Could not move the busy RBD image %s to the trash: '
                        '%s', name, exc)
            return 0
        return 1

    def _empty_trash(self, ioctx):
        """Remove what _trash_busy moved to the trash, where nothing holds it."""
        try:
            entries = list(rbd.RBD().trash_list(ioctx))
        except (rados.Error, rbd.Error) as exc:
            LOG.warning('Could not list the RBD trash: %s', exc)
            return
        for entry in entries:
            if not entry['name'].startswith(PURGED_PREFIX):
                continue
            try:
                rbd.RBD().trash_remove(ioctx, entry['id'], force=True)
            except (rbd.ImageBusy, rbd.ImageNotFound, rbd.ObjectNotFound):
                pass  # still held by an upload (or its dead client's watch)
            except (rados.Error, rbd.Error) as exc:
                LOG.warning('Could not remove %s from the RBD trash: %s',
                            entry['name'], exc)

    # --------------------------------------------------------- download
    def get(self, location, offset=0, length=None):
        """Read the snapshot at ``location``; see Driver.get."""
        if offset < 0 or (length is not None and length < 0):
            raise exception.InvalidRange(
                reason='offset and length must not be negative')
        ioctx = self.open_pool()
        try:
            image = self._open_snapshot(ioctx, location)
        except BaseException:
            ioctx.close()
            raise
        size = image.size()
        end = size if length is None else min(size, offset + length)
        return _RBDChunks(ioctx, image, offset, end, self.chunk_size)

    def get_size(self, location):
        """The size of the snapshot at ``location``; see Driver.get_size."""
        ioctx = self.open_pool()
        try:
            with self._open_snapshot(ioctx, location) as image:
                return image.size()
        finally:
            ioctx.close()

    # ----------------------------------------------------------- delete
    def in_use(self, location):
        """True while the snapshot at ``location`` has clones."""
        ioctx = self.open_pool()
        try:
            with self._open_snapshot(ioctx, location) as image:
                return bool(list(image.list_children2()))
        except exception.StoredDataNotFound:
            return False
        finally:
            ioctx.close()

    def delete(self, location):
        """Unprotect and remove the snapshot, remove the image; see Driver.delete.

        :raises imageapi.common.exception.InUseByStore: if the snapshot has
            clones (or the image other snapshots): the data is kept.
        """
        name = self._parse(location)
        ioctx = self.open_pool()
        try:
            if not self.remove_image(ioctx, name):
                raise exception.StoredDataNotFound(location=location)
        except (rbd.ImageBusy, rbd.ImageHasSnapshots) as exc:
            raise exception.InUseByStore(
                reason='the RBD image %s is in use: %s' % (name, exc))
        except (rados.Error, rbd.Error) as exc:
            raise _translate(exc, 'to delete RBD image %s' % name)
        finally:
            ioctx.close()

    def purge(self, image_id):
        """Remove the marker and the RBD image of ``image_id``; see Driver.purge.

        An RBD image that an upload still holds open cannot be removed: it
        goes to the trash instead (_trash_busy), and a running upload then
        fails at commit, its marker being gone.
        """
        driver.check_image_id(image_id)
        ioctx = self.open_pool()
        try:
            removed = int(self.remove_marker(ioctx, MARKER_PREFIX + image_id))
            try:
                removed += self.remove_image(ioctx, image_id)
            except (rados.Error, rbd.Error) as exc:
                # Busy: an upload holds it open. Anything else (a dead
                # holder's lock that could not be broken in time, ...):
                # moving it away needs no lock.
                if not isinstance(exc, rbd.ImageBusy):
                    LOG.warning('Purge of image %s: could not remove its '
                                'RBD image (%s); moving it to the trash',
                                image_id, exc)
                removed += self._trash_busy(ioctx, image_id)
            self._empty_trash(ioctx)
            return removed
        finally:
            ioctx.close()
