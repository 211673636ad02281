"""What an upload's bytes pass through between the client and a store driver.

``UploadStream`` is the one place that assembles it: the declared length, the size cap,
the storage quota reservations, the format inspection and the hashes, all over one
byte counter. api/v2/image_data.py builds one per upload and hands it to the store
driver's ``add``, which only writes the chunks it yields. ``ClientReader`` is the
request body as the stream reads it. Stdlib only; it knows no server and no database.
"""

import hashlib
import queue
import threading

from imageapi.common import exception


# Chunks smaller than this are hashed on the caller's thread: a handoff to
# two threads costs more than hashing a few KiB.
_THREADED_MIN = 256 * 1024

# Bytes an upload of unknown size reserves from the quota at a time.
QUOTA_STEP = 64 * 1024 * 1024


class ClientReader:
    """Wraps a request body; socket and framing errors become ClientDisconnected.

    Servers raise OSError subclasses (gunicorn's NoMoreData, bad chunk
    framing) when a client goes away mid-body; that is the client's doing,
    not a server fault. A socket timeout (the server edge sets
    ``[upload] body_idle_timeout``) becomes RequestTimeout. With ``length``
    (the Content-Length), reads never go past it, as WSGI asks of
    applications that read ``wsgi.input`` directly.
    """

    def __init__(self, fileobj, length=None, idle_timeout=None):
        self._fileobj = fileobj
        self._remaining = length
        self._idle_timeout = idle_timeout
        self.bytes_read = 0

    def read(self, n):
        if self._remaining is not None:
            n = min(n, self._remaining)
            if n <= 0:
                return b''
        try:
            data = self._fileobj.read(n)
        except TimeoutError:
            raise exception.RequestTimeout(seconds=self._idle_timeout)
        except OSError as exc:
            raise exception.ClientDisconnected(reason=str(exc) or
                                               type(exc).__name__)
        self.bytes_read += len(data)
        if self._remaining is not None:
            self._remaining -= len(data)
        return data


class _HashThread:
    """Feeds chunks to one hash object on its own thread.

    hashlib releases the GIL while it hashes a buffer of more than 2 KiB,
    so md5 and sha512 on two threads run on two cores while the request
    thread receives and writes the next chunk. At most ``depth`` chunks
    wait, which bounds memory.
    """

    def __init__(self, hasher, depth=2):
        self.hasher = hasher
        self._queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='imageapi-hash')
        self._thread.start()

    def _run(self):
        update = self.hasher.update
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            update(chunk)

    def update(self, chunk):
        self._queue.put(chunk)

    def finish(self):
        """Wait until every queued chunk is hashed; stops the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class Hashes:
    """md5 (``checksum``) and ``hash_algo`` over every chunk given to update.

    Large chunks are hashed on two threads (see _HashThread). Chunks must not
    change once given: the threads may still be reading them.
    """

    def __init__(self, hash_algo):
        """:raises ValueError: ``hash_algo`` is not a hashlib algorithm."""
        self.hash_algo = hash_algo
        self._hash = hashlib.new(hash_algo)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._threads = None

    def update(self, chunk):
        if self._threads is None:
            if len(chunk) < _THREADED_MIN:
                self._md5.update(chunk)
                self._hash.update(chunk)
                return
            self._threads = (_HashThread(self._md5), _HashThread(self._hash))
        for thread in self._threads:
            thread.update(chunk)

    def finish(self):
        """Wait for the threads; safe to call more than once."""
        if self._threads is not None:
            for thread in self._threads:
                thread.finish()

    @property
    def checksum(self):
        self.finish()
        return self._md5.hexdigest()

    @property
    def hash_value(self):
        self.finish()
        return self._hash.hexdigest()


class UploadStream:
    """The chunks of one upload, checked and hashed as they go by.

    Iterating calls ``check``, reads ``chunk_size`` bytes at a time from
    ``body`` and, for every chunk, in this order: counts it; raises SizeMismatch once the count
    passes the declared ``size``, ImageSizeLimitExceeded once it passes
    ``cap``; reserves quota ahead of the count through ``reserve``; feeds the
    format ``inspector`` (which raises ImageFormatMismatch); hashes it. At
    the end of the body it raises SizeMismatch for a short body and lets the
    inspector give its verdict, so every refusal is raised before the
    iteration ends: a driver that commits only after the last chunk never
    makes refused data durable. Use it as a context manager, so the hash
    threads stop on every path.

    After a complete iteration ``size``, ``checksum``, ``hash_algo``,
    ``hash_value`` and ``virtual_size`` describe exactly the bytes yielded.
    """

    def __init__(self, body, chunk_size, hash_algo, size=None, cap=None,
                 reserve=None, inspector=None, check=None):
        """Prepare to stream ``body``; nothing is read or reserved yet.

        :param body: object with ``read(n)``, such as a ClientReader; it may
            return fewer bytes than asked, only b'' ends the body.
        :param chunk_size: the most bytes asked for per read.
        :param hash_algo: a hashlib name for os_hash_algo, such as 'sha512'.
        :param size: the declared size in bytes, or None (chunked).
        :param cap: the most bytes an image may have, or None.
        :param reserve: callable(nbytes) that reserves that many more bytes
            of the owner's quota or raises StorageQuotaFull; None for no
            quota. A declared ``size`` is reserved whole before the first
            read, an unknown size QUOTA_STEP bytes at a time.
        :param inspector: a format_check.FormatInspector, or None.
        :param check: callable called before every read, which raises to
            stop the upload (the lease keeper's check of the claim).
        :raises ValueError: ``hash_algo`` is not available.
        """
        self._body = body
        self._chunk_size = chunk_size
        self._declared = size
        self._cap = cap
        self._reserve = reserve
        self._reserved = 0
        self._inspector = inspector
        self._check = check
        self._hashes = Hashes(hash_algo)
        self._started = False
        self._done = False
        self.size = 0
        self.virtual_size = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._hashes.finish()

    def __iter__(self):
        if not self._started:
            self._started = True
            if self._reserve is not None and self._declared:
                self._reserve(self._declared)
                self._reserved = self._declared
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        if self._check is not None:
            self._check()
        chunk = self._body.read(self._chunk_size)
        if not chunk:
            self._end()
            raise StopIteration
        self.size += len(chunk)
        if self._declared is not None and self.size > self._declared:
            raise exception.SizeMismatch(expected=self._declared,
                                         actual=self.size)
        if self._cap is not None and self.size > self._cap:
            raise exception.ImageSizeLimitExceeded(limit=self._cap)
        if self._reserve is not None and self.size > self._reserved:
            self._reserve_more(self.size - self._reserved)
        if self._inspector is not None:
            self._inspector.feed(chunk)
        self._hashes.update(chunk)
        return chunk

    def _reserve_more(self, needed):
        # Ahead of the bytes, a step at a time; near the quota, only what
        # this chunk needs, so an upload that fits is never refused.
        try:
            self._reserve(max(needed, QUOTA_STEP))
            self._reserved += max(needed, QUOTA_STEP)
        except exception.StorageQuotaFull:
            self._reserve(needed)
            self._reserved += needed

    def _end(self):
        self._done = True
        if self._declared is not None and self.size != self._declared:
            raise exception.SizeMismatch(expected=self._declared,
                                         actual=self.size)
        if self._inspector is not None:
            self.virtual_size = self._inspector.finish(self.size)
        self._hashes.finish()

    @property
    def hash_algo(self):
        return self._hashes.hash_algo

    @property
    def checksum(self):
        """The md5 hex digest of the bytes yielded so far."""
        return self._hashes.checksum

    @property
    def hash_value(self):
        """The ``hash_algo`` hex digest of the bytes yielded so far."""
        return self._hashes.hash_value


class FileChunks:
    """Iterator over part of an open file, in chunks (file store, image cache).

    ``file`` is the open file at the start offset, for a WSGI server's
    file_wrapper (sendfile); see Driver.get.
    """

    def __init__(self, fileobj, chunk_size, length):
        self.file = fileobj
        self._file = fileobj
        self._chunk_size = chunk_size
        self._remaining = length

    def __iter__(self):
        return self

    def __next__(self):
        if self._file is None:
            raise StopIteration
        want = self._chunk_size
        if self._remaining is not None:
            want = min(want, self._remaining)
        data = self._file.read(want) if want else b''
        if not data:
            self.close()
            raise StopIteration
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def close(self):
        """Close the file; safe to call more than once."""
        if self._file is not None:
            fileobj, self._file = self._file, None
            fileobj.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
