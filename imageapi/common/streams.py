"""Bounded reading and single-pass hashing of image data streams.

The upload controller wraps the request body in LimitingReader; store drivers
iterate HashingChunks over it, so size and hashes describe the bytes written.
"""

import hashlib
import io
import queue
import threading

from imageapi.common import exception


# Chunks smaller than this are hashed on the caller's thread: a handoff to
# two threads costs more than hashing a few KiB.
_THREADED_MIN = 256 * 1024


class ClientReader:
    """Wraps a request body; socket and framing errors become ClientDisconnected.

    Servers raise OSError subclasses (gunicorn's NoMoreData, bad chunk
    framing) when a client goes away mid-body; that is the client's doing,
    not a server fault. With ``length`` (the Content-Length), reads never
    go past it, as WSGI asks of applications that read ``wsgi.input``
    directly.
    """

    def __init__(self, fileobj, length=None):
        self._fileobj = fileobj
        self._remaining = length
        self.bytes_read = 0

    def read(self, n):
        if self._remaining is not None:
            n = min(n, self._remaining)
            if n <= 0:
                return b''
        try:
            data = self._fileobj.read(n)
        except OSError as exc:
            raise exception.ClientDisconnected(reason=str(exc) or
                                               type(exc).__name__)
        self.bytes_read += len(data)
        if self._remaining is not None:
            self._remaining -= len(data)
        return data


class SocketBodyReader:
    """A Content-Length body received from gunicorn's client socket itself.

    gunicorn's own body reader copies every received MiB four to six times
    between BytesIO buffers, holding the GIL: about as much CPU per GB as
    hashing it. This reader first takes what gunicorn already received,
    through gunicorn's reader (no socket read happens there), then receives
    straight into a new buffer per read. Every byte it takes off the socket
    is taken off gunicorn's LengthReader too, so the server's view of the
    connection stays exact: a body left unread (a refused upload) is still
    drained by gunicorn before the next request on the connection, and a
    failed read marks the body failed so the connection is closed.

    Chunks are bytearrays, each new and never written again once returned.
    """

    def __init__(self, body, sock):
        self._body = body
        self._reader = body.reader
        self._sock = sock

    def read(self, n):
        held = self._body.buf.tell()
        if held:
            return self._body.read(min(n, held))
        held = min(self._reader.unreader.buf.tell(), self._reader.length)
        if held:
            return self._reader.read(min(n, held))
        n = min(n, self._reader.length)
        if n <= 0:
            return b''
        chunk = bytearray(n)
        view = memoryview(chunk)
        received = 0
        try:
            while received < n:
                count = self._sock.recv_into(view[received:])
                if not count:
                    raise ConnectionError('client closed the connection '
                                          'before the end of the body')
                received += count
                self._reader.length -= count
        except OSError:
            self._body.failed = True
            raise
        return chunk


class ChunkedBodyReader:
    """A chunked request body taken from gunicorn's chunk parser directly.

    gunicorn's ChunkedReader and Body pass every piece of chunk data
    through two BytesIO buffers (several copies under the GIL). This
    reader pulls the pieces from gunicorn's own parser, which keeps doing
    the framing and its checks, and copies each into the chunk it returns:
    one copy. What it takes but does not return goes back into gunicorn's
    reader buffer; bad framing marks the body failed (the connection then
    closes) and is raised as an OSError, as a client going away is.
    """

    def __init__(self, body, parse_errors=()):
        self._body = body
        self._reader = body.reader
        self._parse_errors = parse_errors

    def read(self, n):
        held = self._body.buf.tell()
        if held:
            return self._body.read(min(n, held))
        held = self._reader.buf.tell()
        if held:
            return self._reader.read(min(n, held))
        if self._reader.parser is None:
            return b''
        chunk = bytearray(n)
        filled = 0
        try:
            while filled < n:
                try:
                    piece = next(self._reader.parser)
                except StopIteration:
                    self._reader.parser = None
                    break
                take = min(len(piece), n - filled)
                chunk[filled:filled + take] = memoryview(piece)[:take]
                if take < len(piece):
                    self._reader.buf.write(memoryview(piece)[take:])
                filled += take
        except self._parse_errors as exc:
            self._body.failed = True
            raise OSError('malformed chunked body: %s' % exc)
        except OSError:
            self._body.failed = True
            raise
        del chunk[filled:]
        return chunk


def gunicorn_body(environ):
    """A SocketBodyReader or ChunkedBodyReader for ``environ``'s body, or None.

    Only under gunicorn, checked on gunicorn's own classes; any other server,
    or a gunicorn whose internals differ, keeps reading ``wsgi.input``.
    """
    sock = environ.get('gunicorn.socket')
    body = environ.get('wsgi.input')
    if sock is None or body is None:
        return None
    try:
        from gunicorn.http import body as gunicorn_body
        from gunicorn.http import errors as gunicorn_errors
        from gunicorn.http import unreader as gunicorn_unreader
    except ImportError:
        return None
    reader = getattr(body, 'reader', None)
    if not (isinstance(body, gunicorn_body.Body)
            and isinstance(getattr(body, 'buf', None), io.BytesIO)):
        return None
    if isinstance(reader, gunicorn_body.ChunkedReader):
        if (isinstance(getattr(reader, 'buf', None), io.BytesIO)
                and hasattr(reader, 'parser')):
            return ChunkedBodyReader(body, (gunicorn_errors.ParseException,))
        return None
    unreader = getattr(reader, 'unreader', None)
    if (isinstance(reader, gunicorn_body.LengthReader)
            and isinstance(getattr(reader, 'length', None), int)
            and isinstance(unreader, gunicorn_unreader.SocketUnreader)
            and isinstance(getattr(unreader, 'buf', None), io.BytesIO)
            and getattr(unreader, 'sock', None) is sock):
        return SocketBodyReader(body, sock)
    return None


class LimitingReader:
    """A reader that raises once more than ``limit`` bytes went through it.

    Readers stack: wrap one LimitingReader in another to enforce both the
    image size cap and the storage quota, each with its own exception.
    """

    def __init__(self, fileobj, limit, exc_factory):
        """Wrap ``fileobj``.

        :param fileobj: object with a ``read(n)`` method, such as
            ``req.body_file``.
        :param limit: the largest number of bytes that may be read.
        :param exc_factory: callable taking no arguments that returns the
            exception to raise once the count exceeds ``limit``.
        """
        self._fileobj = fileobj
        self._limit = limit
        self._exc_factory = exc_factory
        self.bytes_read = 0

    def read(self, n):
        """Return up to ``n`` bytes from the wrapped reader; b'' at the end.

        ``n`` is required: a read without a size would buffer a whole body.

        :raises: whatever ``exc_factory()`` returns, once the total read
            exceeds the limit. The bytes of that read are not returned.
        """
        data = self._fileobj.read(n)
        self.bytes_read += len(data)
        if self.bytes_read > self._limit:
            raise self._exc_factory()
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


class HashingChunks:
    """Iterate a reader in chunks, hashing every chunk as it goes by.

    Once the iteration ends, ``size``, ``checksum`` (md5 hex), ``hash_algo``
    and ``hash_value`` describe exactly the bytes yielded. The two digests
    are computed on two threads (see _HashThread); use the object as a
    context manager so they stop on every path.
    """

    def __init__(self, reader, chunk_size, hash_algo):
        """Prepare to read ``reader`` ``chunk_size`` bytes at a time.

        :param reader: object with a ``read(n)`` method. It may return fewer
            bytes than asked, as socket-backed readers do; only b'' ends the
            stream.
        :param chunk_size: the most bytes asked for per read.
        :param hash_algo: a ``hashlib.new`` algorithm name, such as 'sha512'.
        :raises ValueError: if ``hash_algo`` is not available; raised before
            anything is read.
        """
        self._reader = reader
        self._chunk_size = chunk_size
        self.hash_algo = hash_algo
        self._hash = hashlib.new(hash_algo)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._threads = None
        self._done = False
        self.size = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._finish()

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        chunk = self._reader.read(self._chunk_size)
        if not chunk:
            self._done = True
            self._finish()
            raise StopIteration
        self._update(chunk)
        return chunk

    def _update(self, chunk):
        # NOTE: the only place that hashes. Chunks are never changed once
        # read (bytes, or SocketBodyReader's new bytearrays), so the hash
        # threads may read one while the caller writes it out.
        self.size += len(chunk)
        if self._threads is None:
            if self._done or len(chunk) < _THREADED_MIN:
                self._md5.update(chunk)
                self._hash.update(chunk)
                return
            self._threads = (_HashThread(self._md5), _HashThread(self._hash))
        for thread in self._threads:
            thread.update(chunk)

    def _finish(self):
        if self._threads is not None:
            for thread in self._threads:
                thread.finish()

    @property
    def checksum(self):
        """The md5 hex digest of the bytes yielded so far."""
        self._finish()
        return self._md5.hexdigest()

    @property
    def hash_value(self):
        """The ``hash_algo`` hex digest of the bytes yielded so far."""
        self._finish()
        return self._hash.hexdigest()
