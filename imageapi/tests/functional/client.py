"""Raw HTTP for functional tests: http.client requests and deterministic payloads.

``Client`` talks to a real server the way a Glance client does, with no library in
between that could buffer, retry or re-encode: JSON bodies, streamed bodies with a
``Content-Length``, chunked bodies without one, and half-sent requests (``begin``) for
disconnect and crash tests. ``Payload`` makes large bodies without holding them in
memory and knows their size and hashes.
"""

import hashlib
import http.client
import json as jsonlib
import random

OCTET_STREAM = 'application/octet-stream'
JSON = 'application/json'
PATCH_V21 = 'application/openstack-images-v2.1-json-patch'
PATCH_V20 = 'application/openstack-images-v2.0-json-patch'
REQUEST_ID_HEADER = 'x-openstack-request-id'


class Response:
    """A finished response; ``body`` is None when it was streamed."""

    def __init__(self, raw, body, connection=None):
        self.raw = raw
        self.status = raw.status
        self.reason = raw.reason
        self.headers = raw.headers
        self.body = body
        self._connection = connection

    def json(self):
        return jsonlib.loads(self.body)

    @property
    def request_id(self):
        return self.headers.get(REQUEST_ID_HEADER)

    def iter_content(self, chunk_size=65536):
        """Read a streamed (``stream=True``) body chunk by chunk, then close."""
        try:
            while True:
                chunk = self.raw.read(chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            self.close()

    def close(self):
        self.raw.close()
        if self._connection is not None:
            self._connection.close()

    def __repr__(self):
        return '<Response %d %s>' % (self.status, self.reason)


class Client:
    """One new connection per request to ``host:port``, closed afterwards."""

    def __init__(self, host, port, headers=None, timeout=60):
        self.host = host
        self.port = port
        # As openstacksdk asks; faults then come as JSON (python-glanceclient
        # sends */* and gets HTML: see TestErrors).
        self.headers = {'Accept': JSON}
        self.headers.update(headers or {})
        self.timeout = timeout

    def connection(self, timeout=None):
        return http.client.HTTPConnection(
            self.host, self.port,
            timeout=self.timeout if timeout is None else timeout)

    def _headers(self, headers):
        merged = dict(self.headers)
        merged.update(headers or {})
        return merged

    def request(self, method, path, body=None, headers=None, json=None,
                stream=False):
        """Send one request and return its Response.

        ``json`` is serialised with Content-Type application/json. ``body``
        may be bytes, a file object or an iterable of bytes; without a
        Content-Length header a file or iterable goes out chunked
        (Transfer-Encoding: chunked), as http.client does. With
        ``stream=True`` the body is left unread: use iter_content().
        """
        headers = self._headers(headers)
        if json is not None:
            body = jsonlib.dumps(json).encode('utf-8')
            headers.setdefault('Content-Type', JSON)
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            if stream:
                return Response(raw, None, connection=conn)
            return Response(raw, raw.read())
        except BaseException:
            conn.close()
            raise
        finally:
            if not stream:
                conn.close()

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, **kw):
        return self.request('POST', path, **kw)

    def put(self, path, **kw):
        return self.request('PUT', path, **kw)

    def patch(self, path, ops, media_type=PATCH_V21, headers=None):
        headers = dict(headers or {}, **{'Content-Type': media_type})
        return self.request('PATCH', path, headers=headers,
                            body=jsonlib.dumps(ops).encode('utf-8'))

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    # ------------------------------------------------------------ images
    def create_image(self, **fields):
        fields.setdefault('disk_format', 'raw')
        fields.setdefault('container_format', 'bare')
        return self.post('/v2/images', json=fields)

    def upload(self, image_id, body, size=None, chunked=False,
               content_type=OCTET_STREAM, headers=None):
        """PUT the image data.

        ``body`` is bytes, a file object or an iterable of bytes (a Payload).
        ``size`` sets Content-Length (taken from bytes and Payloads unless
        ``chunked``); with ``chunked=True`` no Content-Length is sent and
        the body goes out with Transfer-Encoding: chunked.
        """
        headers = dict(headers or {})
        if content_type is not None:
            headers['Content-Type'] = content_type
        if chunked:
            if isinstance(body, (bytes, bytearray)):
                body = _pieces(bytes(body))
        else:
            if size is None:
                size = len(body) if hasattr(body, '__len__') else None
            if size is not None:
                headers['Content-Length'] = str(size)
            if isinstance(body, Payload):
                body = iter(body)
        return self.put('/v2/images/%s/file' % image_id, body=body,
                        headers=headers)

    def download(self, image_id, stream=False):
        return self.get('/v2/images/%s/file' % image_id, stream=stream)

    def download_digests(self, image_id):
        """Stream the data of an image: (response, size, md5, sha512)."""
        response = self.download(image_id, stream=True)
        digests = Digests()
        for chunk in response.iter_content():
            digests.update(chunk)
        return response, digests.size, digests.md5, digests.sha512

    def begin(self, method, path, headers=None, timeout=None):
        """Send only the request line and headers; return the connection.

        The caller sends body bytes with ``conn.send()`` (chunked framing
        is up to it: see ``chunk_frame``), then reads ``conn.getresponse()``
        or just closes the connection to play a client that went away.
        """
        conn = self.connection(timeout)
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in self._headers(headers).items():
            conn.putheader(name, value)
        conn.endheaders()
        return conn


def chunk_frame(data):
    """``data`` framed as one HTTP/1.1 chunk; ``chunk_frame(b'')`` ends a body."""
    return b'%x\r\n%s\r\n' % (len(data), data)


def _pieces(data, size=65536):
    for start in range(0, len(data), size):
        yield data[start:start + size]


class Digests:
    """Size, md5 and sha512 of a stream, updated chunk by chunk."""

    def __init__(self):
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha512 = hashlib.sha512()

    def update(self, chunk):
        self.size += len(chunk)
        self._md5.update(chunk)
        self._sha512.update(chunk)

    @property
    def md5(self):
        return self._md5.hexdigest()

    @property
    def sha512(self):
        return self._sha512.hexdigest()


class Payload:
    """``size`` deterministic pseudo-random bytes, produced chunk by chunk.

    Iterating yields ``chunk_size`` pieces (each one different, so a lost
    or reordered chunk changes the hashes); ``md5``, ``sha512`` and
    ``data()`` (for small payloads) come from the same sequence.
    """

    def __init__(self, size, chunk_size=65536, seed=0):
        self.size = size
        self.chunk_size = chunk_size
        self._block = random.Random(seed).randbytes(chunk_size)
        self._digests = None

    def __len__(self):
        return self.size

    def __iter__(self):
        block, step = self._block, self.chunk_size
        for index, start in enumerate(range(0, self.size, step)):
            shift = (index * 7919) % step
            chunk = block[shift:] + block[:shift]
            yield chunk[:min(step, self.size - start)]

    def data(self):
        return b''.join(self)

    def _digest(self):
        if self._digests is None:
            self._digests = Digests()
            for chunk in self:
                self._digests.update(chunk)
        return self._digests

    @property
    def md5(self):
        return self._digest().md5

    @property
    def sha512(self):
        return self._digest().sha512
