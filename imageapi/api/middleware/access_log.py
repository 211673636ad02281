"""One access log line per request, through oslo.log (logger ``imageapi.access``).

A paste filter, so the line is the same under imageapi-api (gunicorn) and mod_wsgi.
It sits right after ``request_id`` in both pipelines of etc/imageapi-paste.ini, and
writes its line when the server closes the response: once the body has been sent,
or the client went away, so the bytes counted out are those the server really sent.
The line's context (request id, user, project) is the request's own, passed to the
logger, whatever the thread's current context is by then.
"""

import re
import time
from urllib import parse

from oslo_log import log as logging

from imageapi.api.middleware import context as context_middleware
from imageapi.common import wsgi
from imageapi import context

LOG = logging.getLogger('imageapi.access')

# Query parameters whose values never reach the log.
_SECRET_PARAM = re.compile(r'token|password|secret|signature|credential',
                           re.IGNORECASE)
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
# Set (true) by a server edge whose wsgi.file_wrapper sends through Python's
# socket.sendfile (cmd/gunicorn_input.py); elsewhere files are read through.
SENDFILE_SEEKS_KEY = 'imageapi.sendfile_seeks'


def _escape(text):
    # A decoded %0a in a path must not start a new log line.
    return _CONTROL.sub(lambda m: '\\x%02x' % ord(m.group()), text)


def log_target(environ):
    """Path and query string for the log, secrets masked, control escaped."""
    target = wsgi.log_path(environ)
    query = environ.get('QUERY_STRING', '')
    if query:
        pairs = []
        for pair in query.split('&'):
            name, sep, _value = pair.partition('=')
            if sep and _SECRET_PARAM.search(parse.unquote_plus(name)):
                pair = name + '=***'
            pairs.append(pair)
        target += '?' + '&'.join(pairs).encode(
            'latin-1', 'replace').decode('utf-8', 'backslashreplace')
    return _escape(target)


class _CountingInput:
    """``wsgi.input`` that counts the bytes the application read.

    The count is the farthest offset read, so a body a test harness made
    seekable (webob's Request.blank) and read twice counts once.
    """

    def __init__(self, wrapped, record):
        self._wrapped = wrapped
        self._record = record
        self._offset = 0

    def _count(self, data):
        self._offset += len(data)
        self._record.bytes_in = max(self._record.bytes_in, self._offset)
        return data

    def read(self, *args):
        return self._count(self._wrapped.read(*args))

    def readline(self, *args):
        return self._count(self._wrapped.readline(*args))

    def readlines(self, *args):
        return [self._count(line) for line in self._wrapped.readlines(*args)]

    def __iter__(self):
        return iter(self.readline, b'')

    def seek(self, *args):
        self._offset = self._wrapped.seek(*args)
        return self._offset

    def tell(self):
        return self._wrapped.tell()


class _CountingBody:
    """A response body that counts each chunk once the server asks for the next.

    A chunk counts as sent when the server comes back for another (or for
    the end): one whose write failed, the client being gone, is not counted.
    The line is written at ``close()``, which every WSGI server calls.
    """

    def __init__(self, app_iter, record):
        self._app_iter = app_iter
        self._record = record

    def __iter__(self):
        pending = 0
        for chunk in self._app_iter:
            self._record.bytes_out += pending
            pending = len(chunk)
            yield chunk
        self._record.bytes_out += pending

    def close(self):
        try:
            close = getattr(self._app_iter, 'close', None)
            if close is not None:
                close()
        finally:
            self._record.write()


class _CountingFile:
    """The file a server's ``wsgi.file_wrapper`` sends, counting what it read.

    It has no ``fileno``, so the server reads it chunk by chunk (no
    sendfile) and every byte is seen. The line is written when the server
    closes the wrapper, which closes this file.
    """

    def __init__(self, filelike, record):
        self._file = filelike
        self._record = record
        self._start = filelike.tell()
        self._read = 0
        self._sought = 0

    def read(self, *args):
        data = self._file.read(*args)
        self._read += len(data)
        return data

    def tell(self):
        return self._file.tell()

    def seek(self, *args):
        position = self._file.seek(*args)
        self._sought = max(self._sought, position - self._start)
        return position

    def close(self):
        try:
            self._file.close()
        finally:
            # max: a server whose file_wrapper is no class gets a
            # _CountingBody around it too, counting the same bytes.
            self._record.bytes_out = max(self._record.bytes_out, self._read,
                                         self._sought)
            self._record.write()


class _SendfileCountingFile(_CountingFile):
    """A _CountingFile a server may send with sendfile.

    Only for a server that sends through Python's ``socket.sendfile``,
    which seeks the file to where sending stopped, on success and on error
    alike (as its documentation says): the farthest position sought is the
    count. The server edge says so in the environ (SENDFILE_SEEKS_KEY).
    """

    def fileno(self):
        return self._file.fileno()


class _Record:
    """What one request's line says; written once."""

    def __init__(self, environ):
        self.environ = environ
        self.started = time.monotonic()
        self.status = '-'
        self.bytes_in = 0
        self.bytes_out = 0
        self._written = False

    def write(self):
        if self._written:
            return
        self._written = True
        environ = self.environ
        ctx = environ.get(context_middleware.ENV_KEY)
        if ctx is None:
            ctx = context.RequestContext(
                request_id=environ.get('openstack.request_id'),
                overwrite=False)
        LOG.info('%(remote)s "%(method)s %(target)s" status: %(status)s '
                 'len_in: %(bytes_in)d len_out: %(bytes_out)d '
                 'time: %(seconds).6f',
                 {'remote': environ.get('REMOTE_ADDR', '-'),
                  'method': _escape(environ.get('REQUEST_METHOD', '-')),
                  'target': log_target(environ),
                  'status': self.status, 'bytes_in': self.bytes_in,
                  'bytes_out': self.bytes_out,
                  'seconds': time.monotonic() - self.started},
                 context=ctx)


class AccessLogMiddleware(wsgi.Middleware):
    """Counts bytes in and out and logs one line when the response is closed."""

    def __call__(self, environ, start_response):
        record = _Record(environ)
        if 'wsgi.input' in environ:
            environ['wsgi.input'] = _CountingInput(environ['wsgi.input'],
                                                   record)
        server_wrapper = environ.get('wsgi.file_wrapper')
        if server_wrapper is not None:
            counting = (_SendfileCountingFile
                        if environ.get(SENDFILE_SEEKS_KEY) else _CountingFile)
            environ['wsgi.file_wrapper'] = (
                lambda filelike, *args: server_wrapper(
                    counting(filelike, record), *args))

        def _start_response(status, headers, exc_info=None):
            record.status = status.split(None, 1)[0]
            return start_response(status, headers, exc_info)

        try:
            app_iter = self.application(environ, _start_response)
        except BaseException:
            record.status = '500'
            record.write()
            raise
        finally:
            # The server checks its own class on the body it gets back, to
            # send a wrapped file with sendfile.
            if server_wrapper is not None:
                environ['wsgi.file_wrapper'] = server_wrapper
        if (isinstance(server_wrapper, type)
                and isinstance(app_iter, server_wrapper)):
            return app_iter
        return _CountingBody(app_iter, record)


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        return AccessLogMiddleware(app)
    return _filter
