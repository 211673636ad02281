"""HTTP to Swift for store/swift.py: authentication, keep-alive connections, retries.

SwiftConnection knows accounts, containers and objects but nothing of images: the
driver (store/swift.py) decides what the answers mean. It authenticates with Swift's
own auth (v1: tempauth, swauth) or keystone v3 (keystoneauth1), keeps idle
connections per host for reuse by any thread, retries idempotent requests, and
streams object bodies both ways without holding them.
"""

import http.client
import ssl
import threading
import time
import urllib.parse

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3 as ks_v3
from keystoneauth1 import session as ks_session
from oslo_log import log as logging

from imageapi.common import exception

LOG = logging.getLogger(__name__)

# Looked up through these names, so that tests can replace the clock.
_sleep = time.sleep
_monotonic = time.monotonic

# Idle connections kept per host, and for how long: Swift's proxy closes a
# keep-alive connection after client_timeout (60 s by default) of silence,
# and a request sent on a connection it just closed fails.
_MAX_IDLE = 16
_MAX_IDLE_SECONDS = 20.0
# A token is renewed when it has less than this many seconds left, so that
# it cannot expire while a segment is being sent (keystoneauth1 keeps the
# same margin for keystone tokens).
_TOKEN_MARGIN = 120
_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 8.0

_INTERFACES = {'publicURL': 'public', 'internalURL': 'internal',
               'adminURL': 'admin'}
# Network trouble: worth another try for a request that can be repeated.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)


class Response:
    """A fully read answer: ``status``, ``headers`` (HTTPMessage), ``body``."""

    def __init__(self, status, headers, body=b''):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def close(self):
        """Nothing to release: the answer was read whole."""


class SwiftRejected(Exception):
    """Swift answered a streaming PUT before its body was complete."""

    def __init__(self, response):
        super().__init__('Swift answered %d' % response.status)
        self.response = response


def _unavailable(what, exc):
    return exception.BackendUnavailable(
        reason='Swift %s failed: %s' % (what, exc.__class__.__name__))


def _ssl_context(opts):
    context = ssl.create_default_context(cafile=opts.swift_store_cacert)
    if opts.swift_store_auth_insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _V1Auth:
    """Swift's own authentication: GET auth_address with user and key."""

    def __init__(self, opts, ssl_context, timeout):
        self._url = opts.swift_store_auth_address
        self._user = opts.swift_store_user
        self._key = opts.swift_store_key
        self._endpoint = opts.swift_store_endpoint
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token = None
        self._storage_url = None
        self._renew_at = 0.0

    def credentials(self):
        """Return ``(token, storage URL)``, authenticating if needed."""
        with self._lock:
            if self._token is None or _monotonic() >= self._renew_at:
                self._login()
            return self._token, self._storage_url

    def invalidate(self, token):
        """Forget ``token`` (Swift refused it); the next call logs in."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _login(self):
        parts = urllib.parse.urlsplit(self._url)
        conn = _new_connection(parts, self._ssl_context, self._timeout)
        try:
            conn.request('GET', parts.path or '/',
                         headers={'X-Auth-User': self._user or '',
                                  'X-Auth-Key': self._key or ''})
            resp = conn.getresponse()
            resp.read()
        except CONNECTION_ERRORS as exc:
            raise _unavailable('authentication', exc) from exc
        finally:
            conn.close()
        token = resp.getheader('X-Auth-Token')
        storage_url = self._endpoint or resp.getheader('X-Storage-Url')
        if resp.status // 100 != 2 or not token or not storage_url:
            raise exception.BackendUnavailable(
                reason='Swift authentication answered %d' % resp.status)
        try:
            lifetime = int(resp.getheader('X-Auth-Token-Expires'))
        except (TypeError, ValueError):
            lifetime = 3600
        self._token, self._storage_url = token, storage_url
        self._renew_at = _monotonic() + max(lifetime - _TOKEN_MARGIN, 0)


class _KeystoneAuth:
    """Keystone v3: a keystoneauth1 session renews the token by itself."""

    def __init__(self, opts, ssl_context, timeout):
        user = opts.swift_store_user
        project_name = opts.swift_store_project_name
        project_id = opts.swift_store_project_id
        if not (project_name or project_id) and user and ':' in user:
            # Glance's form: "<project name>:<user name>".
            project_name, user = user.split(':', 1)
        user_domain_id = opts.swift_store_user_domain_id
        if not (user_domain_id or opts.swift_store_user_domain_name):
            user_domain_id = 'default'
        project_domain_id = opts.swift_store_project_domain_id
        if not (project_domain_id or opts.swift_store_project_domain_name):
            project_domain_id = 'default'
        auth = ks_v3.Password(
            auth_url=opts.swift_store_auth_address, username=user,
            password=opts.swift_store_key, project_id=project_id,
            project_name=None if project_id else project_name,
            user_domain_id=user_domain_id,
            user_domain_name=opts.swift_store_user_domain_name,
            project_domain_id=project_domain_id,
            project_domain_name=opts.swift_store_project_domain_name)
        verify = opts.swift_store_cacert or True
        if opts.swift_store_auth_insecure:
            verify = False
        self._session = ks_session.Session(auth=auth, verify=verify,
                                           timeout=timeout)
        self._endpoint = opts.swift_store_endpoint
        self._filter = {
            'service_type': opts.swift_store_service_type,
            'interface': _INTERFACES[opts.swift_store_endpoint_type],
            'region_name': opts.swift_store_region}

    def credentials(self):
        """Return ``(token, storage URL)``; see _V1Auth.credentials."""
        token, url = None, self._endpoint
        try:
            token = self._session.get_token()
            if not url:
                url = self._session.get_endpoint(**self._filter)
        except ks_exceptions.EndpointNotFound:
            url = None
        except ks_exceptions.ClientException as exc:
            raise _unavailable('authentication with keystone', exc) from exc
        if not url:
            raise exception.BackendUnavailable(
                reason='the keystone catalog lists no %(service_type)s '
                       'endpoint (interface %(interface)s, region '
                       '%(region_name)s)' % self._filter)
        return token, url

    def invalidate(self, token):
        """Forget the token (Swift refused it); the next call logs in."""
        self._session.invalidate()


def _new_connection(parts, ssl_context, timeout):
    if parts.scheme == 'https':
        return http.client.HTTPSConnection(parts.hostname, parts.port,
                                           timeout=timeout,
                                           context=ssl_context)
    return http.client.HTTPConnection(parts.hostname, parts.port,
                                      timeout=timeout)


class _Pool:
    """Idle keep-alive connections per (scheme, host, port), most recent first."""

    def __init__(self, ssl_context, timeout):
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._idle = {}
        self._lock = threading.Lock()

    def get(self, parts, fresh=False):
        """Return ``(connection, reused)``: an idle one unless ``fresh``."""
        key = (parts.scheme, parts.hostname, parts.port)
        if not fresh:
            with self._lock:
                idle = self._idle.get(key, [])
                while idle:
                    conn, since = idle.pop()
                    if _monotonic() - since < _MAX_IDLE_SECONDS:
                        return conn, True
                    conn.close()
        return _new_connection(parts, self._ssl_context, self._timeout), False

    def close(self):
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn, _since in conns:
                conn.close()

    def put(self, parts, conn):
        """Keep ``conn`` for reuse; its last answer must be fully read."""
        key = (parts.scheme, parts.hostname, parts.port)
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < _MAX_IDLE:
                idle.append((conn, _monotonic()))
                return
        conn.close()


class StreamedGet:
    """An answer to a GET whose body is read on demand; see SwiftConnection.get."""

    def __init__(self, pool, parts, conn, resp):
        self.status = resp.status
        self.headers = resp.headers
        self._pool = pool
        self._parts = parts
        self._conn = conn
        self._resp = resp

    def read(self, size):
        """Up to ``size`` bytes; fewer only at the end of the body."""
        return self._resp.read(size)

    def close(self):
        """Give the connection back if the body was read to its end."""
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        if self._resp.isclosed() and not self._resp.will_close:
            self._pool.put(self._parts, conn)
        else:
            # NOTE: unread bytes would be taken for the next answer; reading
            # the rest of an image to save a connect is not worth it.
            conn.close()


class ChunkedPut:
    """An object PUT whose body goes out as it is written (chunked transfer).

    ``send`` passes each piece on at once, so nothing of the body is held
    here; ``finish`` ends the body and returns Swift's answer; ``close``
    drops an unfinished PUT, which Swift then discards.
    """

    def __init__(self, pool, parts, conn):
        self._pool = pool
        self._parts = parts
        self._conn = conn

    def send(self, data):
        """Send ``data`` (bytes-like, not empty) as one chunk.

        :raises SwiftRejected: Swift answered early (such as 412 or 413).
        :raises imageapi.common.exception.BackendUnavailable: on a
            connection error.
        """
        try:
            self._conn.send(b'%x\r\n' % len(data))
            self._conn.send(data)
            self._conn.send(b'\r\n')
        except CONNECTION_ERRORS as exc:
            self._early_answer(exc)

    def finish(self):
        """End the body; return Swift's answer as a Response."""
        try:
            self._conn.send(b'0\r\n\r\n')
        except CONNECTION_ERRORS as exc:
            self._early_answer(exc)
        try:
            resp = self._conn.getresponse()
            body = resp.read()
        except CONNECTION_ERRORS as exc:
            self.close()
            raise _unavailable('object upload', exc) from exc
        conn, self._conn = self._conn, None
        if resp.will_close:
            conn.close()
        else:
            self._pool.put(self._parts, conn)
        return Response(resp.status, resp.headers, body)

    def close(self):
        """Drop the connection if the PUT did not finish; safe to repeat."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def _early_answer(self, exc):
        """Raise what Swift answered before it stopped reading, if anything."""
        try:
            resp = self._conn.getresponse()
            response = Response(resp.status, resp.headers, resp.read())
        except CONNECTION_ERRORS:
            response = None
        self.close()
        if response is not None and response.status // 100 != 2:
            raise SwiftRejected(response) from exc
        raise _unavailable('object upload', exc) from exc


class SwiftConnection:
    """The requests the Swift driver makes; one per driver, thread-safe.

    Nothing goes over the network before the first request.

    :param opts: the driver's option group (conf/swift_store.py).
    :raises imageapi.common.exception.BackendUnavailable: if
        ``swift_store_auth_address`` is not set.
    """

    def __init__(self, opts):
        if not opts.swift_store_auth_address:
            raise exception.BackendUnavailable(
                reason='swift_store_auth_address is not set')
        ssl_context = _ssl_context(opts)
        timeout = opts.swift_store_timeout
        if opts.swift_store_auth_version == '1':
            self._auth = _V1Auth(opts, ssl_context, timeout)
        else:
            self._auth = _KeystoneAuth(opts, ssl_context, timeout)
        self._pool = _Pool(ssl_context, timeout)
        self.retries = opts.swift_store_retries

    def close(self):
        """Close the idle connections; later requests open new ones."""
        self._pool.close()

    def _target(self, storage_url, container, obj, query):
        parts = urllib.parse.urlsplit(storage_url)
        path = parts.path.rstrip('/')
        if container is not None:
            path += '/' + urllib.parse.quote(container, safe='')
        if obj is not None:
            path += '/' + urllib.parse.quote(obj, safe='')
        if query:
            path += '?' + urllib.parse.urlencode(query)
        return parts, path

    def _backoff(self, attempt):
        _sleep(min(_BACKOFF_FIRST * 2 ** (attempt - 1), _BACKOFF_MAX))

    def request(self, method, container, obj=None, query=None, headers=None,
                body=None, idempotent=True):
        """Send one request and read the whole answer (never image data).

        ``container`` None addresses the account, ``obj`` None the
        container. A 401 logs in again and repeats the request once. An
        idempotent request is also repeated ``swift_store_retries`` times
        after a connection error or a 5xx answer (but 507, a full disk),
        with backoff; any other request goes out once, on a new connection.

        :returns: a Response, whatever its status.
        :raises imageapi.common.exception.BackendUnavailable: no answer.
        """
        def exchange(parts, path, all_headers):
            return self._exchange(parts, method, path, all_headers, body,
                                  fresh=not idempotent)
        return self._retrying(method, container, obj, query, headers,
                              idempotent, exchange)

    def get(self, container, obj, headers=None):
        """Start a GET of an object and return it as a StreamedGet.

        Retries as ``request`` does until the status line arrives; the body
        of a non-2xx answer comes already read, its connection released.
        """
        return self._retrying('GET', container, obj, None, headers, True,
                              self._open_get)

    def _retrying(self, method, container, obj, query, headers, idempotent,
                  exchange):
        """Call ``exchange(parts, path, headers)`` until an answer may stand."""
        attempt = 0
        reauthenticated = False
        while True:
            token, storage_url = self._auth.credentials()
            parts, path = self._target(storage_url, container, obj, query)
            all_headers = dict(headers or {}, **{'X-Auth-Token': token})
            try:
                resp = exchange(parts, path, all_headers)
            except CONNECTION_ERRORS as exc:
                if not idempotent or attempt >= self.retries:
                    raise _unavailable('%s %s' % (method, path), exc) from exc
                attempt += 1
                LOG.warning('Swift %s %s failed (%s); try %d of %d',
                            method, path, exc, attempt + 1, self.retries + 1)
                self._backoff(attempt)
                continue
            if resp.status == 401 and not reauthenticated:
                resp.close()
                self._auth.invalidate(token)
                reauthenticated = True
                continue
            if (idempotent and resp.status >= 500 and resp.status != 507
                    and attempt < self.retries):
                resp.close()
                attempt += 1
                LOG.warning('Swift %s %s answered %d; try %d of %d',
                            method, path, resp.status, attempt + 1,
                            self.retries + 1)
                self._backoff(attempt)
                continue
            return resp

    def _exchange(self, parts, method, path, headers, body, fresh):
        """One request and its answer; a stale idle connection is replaced."""
        conn, reused = self._pool.get(parts, fresh=fresh)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except CONNECTION_ERRORS:
            conn.close()
            if not reused:
                raise
            # Swift closed the idle connection meanwhile: the request never
            # reached it, so it may go out again at once.
            return self._exchange(parts, method, path, headers, body,
                                  fresh=True)
        if resp.will_close:
            conn.close()
        else:
            self._pool.put(parts, conn)
        return Response(resp.status, resp.headers, data)

    def _open_get(self, parts, path, headers, fresh=False):
        """A GET up to its status line; see _exchange."""
        conn, reused = self._pool.get(parts, fresh=fresh)
        try:
            conn.request('GET', path, headers=headers)
            resp = conn.getresponse()
            stream = StreamedGet(self._pool, parts, conn, resp)
            if resp.status // 100 != 2:
                resp.read()
                stream.close()
        except CONNECTION_ERRORS:
            conn.close()
            if not reused:
                raise
            return self._open_get(parts, path, headers, fresh=True)
        return stream

    def put(self, container, obj, headers=None):
        """Start a chunked PUT of an object; return the ChunkedPut.

        Always on a new connection: a failure on a reused one could not be
        repeated, since the bytes already sent are not kept.
        """
        token, storage_url = self._auth.credentials()
        parts, path = self._target(storage_url, container, obj, None)
        conn, _reused = self._pool.get(parts, fresh=True)
        try:
            conn.putrequest('PUT', path, skip_accept_encoding=True)
            for name, value in dict(headers or {},
                                    **{'X-Auth-Token': token}).items():
                conn.putheader(name, value)
            conn.putheader('Transfer-Encoding', 'chunked')
            conn.endheaders()
        except CONNECTION_ERRORS as exc:
            conn.close()
            raise _unavailable('PUT %s' % path, exc) from exc
        return ChunkedPut(self._pool, parts, conn)
