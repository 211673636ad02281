"""The one module that knows gunicorn's internals: fast readers of image bodies.

``imageapi-api`` and ``imageapi.wsgi:application`` (so that plain gunicorn reads
bodies as imageapi-api does) wrap the paste app in ``FastInput``: for a request
carrying image data (``Content-Type: application/octet-stream``) it replaces
``wsgi.input`` with a reader that takes the body from gunicorn's socket
(Content-Length) or from gunicorn's chunk parser (chunked) instead of through
gunicorn's buffers; other chunked bodies keep gunicorn's reader, with bad framing
raised as OSError. The app only ever sees a plain ``wsgi.input``. Everything here
reads attributes of gunicorn's own objects that are not its documented API
(``Body.buf``, ``LengthReader.length``, ``ChunkedReader.parser`` ...), so
requirements.txt bounds gunicorn from above, and
imageapi/tests/unit/cmd/test_gunicorn_input.py fails loudly when a new gunicorn
changes them. Any other server, or a gunicorn whose objects differ, keeps its own
input.

NOTE: the speed is worth this: gunicorn's own body reader copies every received MiB
four to six times between BytesIO buffers, holding the GIL, which cost about as much
CPU per GB as hashing it (tools/bench/README.md, "What bounds the figures").
"""

import io

from imageapi.api.middleware import access_log

try:
    from gunicorn.http import body as gunicorn_body
    from gunicorn.http import errors as gunicorn_errors
    from gunicorn.http import unreader as gunicorn_unreader
except ImportError:  # not under gunicorn: FastInput passes requests through
    gunicorn_body = gunicorn_errors = gunicorn_unreader = None

# Below this gunicorn the readers were never tested; at or above the upper
# bound its internals may have changed (see requirements.txt).
SUPPORTED_GUNICORN = ((22, 0), (28, 0))

_IMAGE_DATA_TYPE = 'application/octet-stream'


class _EdgeInput:
    """``wsgi.input`` on top of ``_read_some(n)``: read, readline, iteration."""

    _pending = b''

    def read(self, size=-1):
        if size is None or size < 0:
            return b''.join(iter(lambda: self.read(1024 * 1024), b''))
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        return self._read_some(size)

    def readline(self, size=-1):
        line = bytearray()
        while size is None or size < 0 or len(line) < size:
            want = 65536 if size is None or size < 0 else size - len(line)
            data = self.read(want)
            if not data:
                break
            end = data.find(b'\n')
            if end >= 0:
                line += data[:end + 1]
                self._pending = bytes(data[end + 1:]) + self._pending
                break
            line += data
        return bytes(line)

    def readlines(self, hint=-1):
        return list(iter(self.readline, b''))

    def __iter__(self):
        return iter(self.readline, b'')


class SocketBodyReader(_EdgeInput):
    """A Content-Length body received from gunicorn's client socket itself.

    It first takes what gunicorn already received, through gunicorn's reader
    (no socket read happens there), then receives straight into a new
    buffer per read. Every byte it takes off the socket is taken off
    gunicorn's LengthReader too, so the server's view of the connection stays
    exact: a body left unread (a refused upload) is still drained by gunicorn
    before the next request on the connection, and a failed read marks the
    body failed so the connection is closed.

    Chunks are bytearrays, each new and never written again once returned.
    """

    def __init__(self, body, sock):
        self._body = body
        self._reader = body.reader
        self._sock = sock

    def _read_some(self, n):
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


class ChunkedBodyReader(_EdgeInput):
    """A chunked request body taken from gunicorn's chunk parser directly.

    gunicorn's parser keeps doing the framing and its checks; each piece is
    copied once, into the chunk returned. What it takes but does not return
    goes back into gunicorn's reader buffer; bad framing marks the body
    failed (the connection then closes) and is raised as an OSError, as a
    client going away is.
    """

    def __init__(self, body, parse_errors=()):
        self._body = body
        self._reader = body.reader
        self._parse_errors = parse_errors

    def _read_some(self, n):
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


class FramingErrorInput:
    """gunicorn's own reader of a chunked body, bad framing raised as OSError.

    For bodies other than image data (JSON): webob reads them, and the app
    takes an OSError as the client's doing (a 400), where gunicorn's
    ParseException would be a 500. gunicorn has already marked the body
    failed, so the connection closes.
    """

    def __init__(self, body, parse_errors):
        self._body = body
        self._parse_errors = parse_errors

    def _reading(self, method, *args):
        try:
            return method(*args)
        except self._parse_errors as exc:
            raise OSError('malformed chunked body: %s' % exc)

    def read(self, size=None):
        return self._reading(self._body.read, size)

    def readline(self, size=None):
        return self._reading(self._body.readline, size)

    def readlines(self, hint=None):
        return self._reading(self._body.readlines, hint)

    def __iter__(self):
        return iter(self.readline, b'')


def body_reader(environ):
    """A SocketBodyReader or ChunkedBodyReader for ``environ``'s body, or None.

    Checked on gunicorn's own classes at every request: any other server, or
    objects that are not what these readers expect, give None.
    """
    sock = environ.get('gunicorn.socket')
    body = environ.get('wsgi.input')
    if sock is None or body is None or gunicorn_body is None:
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


def _is_chunked_body(body):
    return (gunicorn_body is not None
            and isinstance(body, gunicorn_body.Body)
            and isinstance(getattr(body, 'reader', None),
                           gunicorn_body.ChunkedReader))


class FastInput:
    """WSGI wrapper: image data bodies through the readers above.

    Other chunked bodies stay gunicorn's, their framing errors made
    OSErrors (FramingErrorInput).

    While the app runs, the client socket of an image data request has
    ``idle_timeout`` seconds as its timeout, so a client that stops sending
    its body (after ``Expect: 100-continue`` too) gets a TimeoutError from
    the read (the app answers 408) instead of holding a worker thread for as
    long as it keeps the connection open.
    """

    def __init__(self, app, idle_timeout=None):
        self.app = app
        self.idle_timeout = idle_timeout

    def __call__(self, environ, start_response):
        # gunicorn sends a wsgi.file_wrapper with socket.sendfile, which
        # leaves the file where sending stopped: the access log counts that
        # (tests/functional/test_access_log.py fails if it changes).
        environ[access_log.SENDFILE_SEEKS_KEY] = True
        content_type = environ.get('CONTENT_TYPE', '').partition(';')[0]
        image_data = content_type.strip().lower() == _IMAGE_DATA_TYPE
        reader = body_reader(environ) if image_data else None
        if reader is None and _is_chunked_body(environ.get('wsgi.input')):
            reader = FramingErrorInput(environ['wsgi.input'],
                                       (gunicorn_errors.ParseException,))
        if reader is not None:
            environ['wsgi.input'] = reader
        sock = environ.get('gunicorn.socket')
        if not image_data or sock is None or self.idle_timeout is None:
            return self.app(environ, start_response)
        previous = sock.gettimeout()
        sock.settimeout(self.idle_timeout)
        try:
            return self.app(environ, start_response)
        finally:
            sock.settimeout(previous)
