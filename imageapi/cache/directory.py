"""ImageCache: one node's cache of image data in ``[DEFAULT] image_cache_dir``.

The directory holds the entries (one file per image, named by its id), ``incomplete/``
(files being filled, one per image, each locked by its filler with flock), ``queue/``
(empty files naming images queued for pre-fetch) and ``cache.db``, a SQLite index of the
entries: size, the hash the file was verified against, its inode, size and mtime when it
was committed, hits and last access. The index is the only thing trusted to say a file
is a verified entry, and it lives in the directory, so the cache survives a restart;
``reconcile`` rebuilds it from the directory. The download controller, the cache API
and the keeper (cache/keeper.py) call it; it knows no database and no store.
"""

import contextlib
import errno
import fcntl
import hashlib
import os
import sqlite3
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_INDEX = 'cache.db'
_INCOMPLETE = 'incomplete'
_QUEUE = 'queue'
_SCHEMA = ('CREATE TABLE IF NOT EXISTS entries ('
           'image_id TEXT PRIMARY KEY, size INTEGER NOT NULL, '
           'hash_algo TEXT, hash_value TEXT, ino INTEGER NOT NULL, '
           'mtime_ns INTEGER NOT NULL, hits INTEGER NOT NULL DEFAULT 0, '
           'last_accessed REAL NOT NULL, last_modified REAL NOT NULL)')
# A committed file gets this mtime (in whole seconds, before now): any later
# write sets the clock's time, so a file changed in place is told apart from
# the one verified even within the clock's granularity.
_MTIME_BACKDATE_NS = 2 * 10 ** 9
_READ_CHUNK = 1024 * 1024

# os.fdatasync through a module-level name so tests can count calls.
fdatasync = os.fdatasync


def _is_entry_name(name):
    return len(name) == 36 and name.count('-') == 4


class Fill:
    """A temp file being written with one image's data; see ImageCache.start_fill.

    The filler holds an exclusive flock on the file until ``commit`` or
    ``abort``, so one process of the node fills an image at a time and
    ``clean`` can tell a live fill from a stalled one.
    """

    def __init__(self, cache, image_id, fd, path, size, hash_algo,
                 hash_value):
        self.cache = cache
        self.image_id = image_id
        self.path = path
        self._fd = fd
        self._size = size
        self._hash_algo = hash_algo
        self._hash_value = hash_value
        self._hasher = hashlib.new(hash_algo)
        self._written = 0

    def write(self, chunk):
        """Append ``chunk``; past the image size the fill is abandoned."""
        if self._fd is None:
            return
        self._written += len(chunk)
        if self._written > self._size:
            LOG.warning('Image %s: more data than its size; not cached',
                        self.image_id)
            self.abort()
            return
        self._hasher.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(self._fd, view):]

    def commit(self):
        """Make the file the image's entry if size and hash match; True if so.

        Anything else discards it. Never raises for a mismatch: the
        download it rode along has been served already.
        """
        if self._fd is None:
            return False
        if (self._written != self._size
                or self._hasher.hexdigest() != self._hash_value):
            LOG.warning('Image %s: downloaded data does not match its size '
                        'and %s hash; not cached', self.image_id,
                        self._hash_algo)
            self.abort()
            return False
        try:
            self.cache.commit(self)
        except OSError as exc:
            LOG.warning('Image %s not cached: %s', self.image_id, exc)
            self.abort()
            return False
        self._release()
        return True

    def abort(self):
        """Discard the partial file; safe to call more than once."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self._release()

    def _release(self):
        fd, self._fd = self._fd, None
        os.close(fd)  # drops the flock too

    def fileno(self):
        return self._fd

    @property
    def complete(self):
        """True once the image's size has been written (and not abandoned)."""
        return self._fd is not None and self._written == self._size

    @property
    def hash_algo(self):
        return self._hash_algo

    @property
    def hash_value(self):
        return self._hash_value

    @property
    def size(self):
        return self._size


class ImageCache:
    """The cache of one node; see the module docstring."""

    def __init__(self, path, max_size, stall_time):
        self.path = path
        self.max_size = max_size
        self.stall_time = stall_time
        self.incomplete = os.path.join(path, _INCOMPLETE)
        self.queue_dir = os.path.join(path, _QUEUE)
        for directory in (path, self.incomplete, self.queue_dir):
            os.makedirs(directory, mode=0o700, exist_ok=True)
        with self._index(write=True) as db:
            db.execute(_SCHEMA)

    @classmethod
    def from_conf(cls, conf):
        """The cache ``conf`` configures, or None when image_cache_dir is unset."""
        if not conf.image_cache_dir:
            return None
        return cls(conf.image_cache_dir, conf.image_cache_max_size,
                   conf.image_cache_stall_time)

    @contextlib.contextmanager
    def _index(self, write=False):
        """A connection to cache.db; ``write`` holds its write lock throughout.

        Each call opens its own connection: API workers are processes and
        threads, and SQLite serialises their writers on the file.
        """
        db = sqlite3.connect(os.path.join(self.path, _INDEX), timeout=30,
                             isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            if write:
                db.execute('BEGIN IMMEDIATE')
            yield db
            if write:
                db.execute('COMMIT')
        except BaseException:
            if db.in_transaction:
                db.execute('ROLLBACK')
            raise
        finally:
            db.close()

    def entry_path(self, image_id):
        return os.path.join(self.path, image_id)

    # ------------------------------------------------------------ filling
    def start_fill(self, image_id, size, hash_algo, hash_value):
        """A Fill for ``image_id``, or None when another filler has it.

        :param size: the image size; the data must have exactly this many
            bytes to become an entry.
        :param hash_algo: and ``hash_value``, the image's os_hash_algo and
            os_hash_value the data must match.
        """
        if not _is_entry_name(image_id) or not hash_value:
            return None
        try:
            hashlib.new(hash_algo)
        except (ValueError, TypeError):
            return None
        path = os.path.join(self.incomplete, image_id)
        for _attempt in range(3):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            stat = os.fstat(fd)
            if stat.st_nlink and not stat.st_size:
                return Fill(self, image_id, fd, path, size, hash_algo,
                            hash_value)
            # Left by a filler that died (never reuse it: a follower could
            # read its bytes), or unlinked by one that just finished.
            if stat.st_nlink:
                _unlink_if_same(path, stat)
            os.close(fd)
        return None

    def follow(self, image_id):
        """The file another download is filling for ``image_id``, or None.

        Open for reading; see FollowingChunks. None when nobody fills it.
        """
        if not _is_entry_name(image_id):
            return None
        try:
            fileobj = open(os.path.join(self.incomplete, image_id), 'rb')
        except FileNotFoundError:
            return None
        if not os.fstat(fileobj.fileno()).st_nlink or not locked(fileobj):
            fileobj.close()
            return None
        return fileobj

    def commit(self, fill):
        """Rename a verified fill into place and index it (Fill.commit)."""
        fdatasync(fill.fileno())
        now = time.time()
        mtime_ns = (int(now) * 10 ** 9) - _MTIME_BACKDATE_NS
        os.utime(fill.fileno(), ns=(mtime_ns, mtime_ns))
        stat = os.fstat(fill.fileno())
        final = self.entry_path(fill.image_id)
        with self._index(write=True) as db:
            os.replace(fill.path, final)
            db.execute('INSERT OR REPLACE INTO entries (image_id, size, '
                       'hash_algo, hash_value, ino, mtime_ns, hits, '
                       'last_accessed, last_modified) VALUES '
                       '(?, ?, ?, ?, ?, ?, 0, ?, ?)',
                       (fill.image_id, fill.size, fill.hash_algo,
                        fill.hash_value, stat.st_ino, stat.st_mtime_ns, now,
                        now))
        LOG.info('Image %s cached (%d bytes)', fill.image_id, fill.size)

    # ------------------------------------------------------------ serving
    def open_entry(self, image_id, size, hash_algo, hash_value):
        """The entry of ``image_id`` opened for reading, or None.

        Only a file that is exactly as it was when verified (same inode,
        size and mtime) against this very size and hash is returned; any
        other entry of the image is removed. Counts a hit.
        """
        if not _is_entry_name(image_id):
            return None
        with self._index() as db:
            row = db.execute('SELECT * FROM entries WHERE image_id = ?',
                             (image_id,)).fetchone()
        if row is None:
            return None
        if ((row['size'], row['hash_algo'], row['hash_value'])
                != (size, hash_algo, hash_value)):
            self.delete(image_id)
            return None
        try:
            fileobj = open(self.entry_path(image_id), 'rb')
        except FileNotFoundError:
            self.delete(image_id)
            return None
        stat = os.fstat(fileobj.fileno())
        if (stat.st_ino, stat.st_size, stat.st_mtime_ns) != (
                row['ino'], row['size'], row['mtime_ns']):
            fileobj.close()
            LOG.warning('Image %s: cached file changed since it was '
                        'verified; removed', image_id)
            self.delete(image_id)
            return None
        with self._index(write=True) as db:
            db.execute('UPDATE entries SET hits = hits + 1, '
                       'last_accessed = ? WHERE image_id = ?',
                       (time.time(), image_id))
        return fileobj

    def is_cached(self, image_id):
        with self._index() as db:
            return db.execute('SELECT 1 FROM entries WHERE image_id = ?',
                              (image_id,)).fetchone() is not None

    # ------------------------------------------------------------ listing
    def cached_images(self):
        """Glance's records: image_id, hits, last_accessed, last_modified, size."""
        with self._index() as db:
            rows = db.execute('SELECT image_id, hits, last_accessed, '
                              'last_modified, size FROM entries '
                              'ORDER BY image_id').fetchall()
        return [dict(row) for row in rows]

    def cached_ids(self):
        with self._index() as db:
            return [row[0] for row in db.execute(
                'SELECT image_id FROM entries ORDER BY image_id')]

    def total_size(self):
        with self._index() as db:
            return db.execute('SELECT COALESCE(SUM(size), 0) '
                              'FROM entries').fetchone()[0]

    # ------------------------------------------------------------ removal
    def delete(self, image_id):
        """Remove the entry of ``image_id``; True if there was one."""
        if not _is_entry_name(image_id):
            return False
        with self._index(write=True) as db:
            gone = db.execute('DELETE FROM entries WHERE image_id = ?',
                              (image_id,)).rowcount
            try:
                os.unlink(self.entry_path(image_id))
                gone = gone or 1
            except FileNotFoundError:
                pass
        return bool(gone)

    def delete_all(self):
        """Remove every entry; returns how many there were."""
        return sum(self.delete(image_id) for image_id in self.cached_ids())

    def prune(self):
        """Remove least recently used entries until the cache fits.

        :returns: (files removed, bytes removed).
        """
        with self._index() as db:
            rows = db.execute('SELECT image_id, size FROM entries '
                              'ORDER BY last_accessed, image_id').fetchall()
        total = sum(row['size'] for row in rows)
        files = freed = 0
        for row in rows:
            if total - freed <= self.max_size:
                break
            if self.delete(row['image_id']):
                files += 1
                freed += row['size']
        if files:
            LOG.info('Cache pruned: %d images, %d bytes', files, freed)
        return files, freed

    # ------------------------------------------------------------ queue
    def queue(self, image_id):
        """Queue ``image_id`` for pre-fetch; False if cached already."""
        if not _is_entry_name(image_id) or self.is_cached(image_id):
            return False
        path = os.path.join(self.queue_dir, image_id)
        with open(path, 'ab'):
            pass
        return True

    def queued_images(self):
        """Queued image ids, oldest first."""
        names = []
        for entry in os.scandir(self.queue_dir):
            if _is_entry_name(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    names.append((entry.stat().st_mtime_ns, entry.name))
        return [name for _, name in sorted(names)]

    def dequeue(self, image_id):
        """Take ``image_id`` off the queue; True if it was queued."""
        if not _is_entry_name(image_id):
            return False
        try:
            os.unlink(os.path.join(self.queue_dir, image_id))
        except FileNotFoundError:
            return False
        return True

    def dequeue_all(self):
        return sum(self.dequeue(image_id) for image_id in self.queued_images())

    # ------------------------------------------------------------ repair
    def clean(self, hash_algo='sha512', now=None):
        """Remove stalled fills and invalid entries; rebuild the index.

        Invalid: a file that is not as indexed, an index row without its
        file. A file the index does not know (the index was lost) is hashed
        and indexed unverified: it is served only once the image's own
        hash matches what was computed here.

        :returns: how many files or rows were removed.
        """
        now = time.time() if now is None else now
        removed = self._remove_stalled(now)
        with self._index() as db:
            rows = {row['image_id']: row for row in db.execute(
                'SELECT * FROM entries').fetchall()}
        names = {name for name in os.listdir(self.path)
                 if _is_entry_name(name)}
        for image_id, row in rows.items():
            try:
                stat = os.stat(self.entry_path(image_id))
            except FileNotFoundError:
                stat = None
            if stat is None or (stat.st_ino, stat.st_size,
                                stat.st_mtime_ns) != (
                    row['ino'], row['size'], row['mtime_ns']):
                self.delete(image_id)
                removed += 1
        for image_id in names - set(rows):
            self._index_unknown(image_id, hash_algo)
        return removed

    def verify(self, image_id):
        """Re-hash the entry of ``image_id``; remove it if it changed.

        :returns: True if the file still has the indexed hash.
        """
        with self._index() as db:
            row = db.execute('SELECT * FROM entries WHERE image_id = ?',
                             (image_id,)).fetchone()
        if row is None or not row['hash_algo']:
            return False
        try:
            digest = _hash_file(self.entry_path(image_id), row['hash_algo'])
        except FileNotFoundError:
            digest = None
        if digest != row['hash_value']:
            LOG.warning('Image %s: cached file does not match its hash; '
                        'removed', image_id)
            self.delete(image_id)
            return False
        return True

    def _remove_stalled(self, now):
        removed = 0
        for entry in os.scandir(self.incomplete):
            try:
                fd = os.open(entry.path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # a live fill
                continue
            try:
                if now - os.fstat(fd).st_mtime >= self.stall_time:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                    removed += 1
            finally:
                os.close(fd)
        return removed

    def _index_unknown(self, image_id, hash_algo):
        path = self.entry_path(image_id)
        try:
            stat = os.stat(path)
            digest = _hash_file(path, hash_algo)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
            return
        with self._index(write=True) as db:
            db.execute('INSERT OR IGNORE INTO entries (image_id, size, '
                       'hash_algo, hash_value, ino, mtime_ns, hits, '
                       'last_accessed, last_modified) VALUES '
                       '(?, ?, ?, ?, ?, ?, 0, ?, ?)',
                       (image_id, stat.st_size, hash_algo, digest,
                        stat.st_ino, stat.st_mtime_ns, stat.st_atime,
                        stat.st_mtime))


def locked(fileobj):
    """True while a filler holds the file (its exclusive flock)."""
    try:
        fcntl.flock(fileobj.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(fileobj.fileno(), fcntl.LOCK_UN)
    return False


def _unlink_if_same(path, stat):
    with contextlib.suppress(FileNotFoundError):
        if os.stat(path).st_ino == stat.st_ino:
            os.unlink(path)


def _hash_file(path, hash_algo):
    hasher = hashlib.new(hash_algo)
    with open(path, 'rb') as fileobj:
        while True:
            chunk = fileobj.read(_READ_CHUNK)
            if not chunk:
                return hasher.hexdigest()
            hasher.update(chunk)
