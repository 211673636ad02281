"""The few Image API v2 calls the benchmark makes outside the timed loops.

Works against imageapi and Glance alike: both run with no authentication, so every call
is the admin of the embedded default.
"""

import http.client
import json


class APIError(Exception):
    pass


class APIClient:
    """One keep-alive http.client connection to ``host:port``."""

    def __init__(self, host, port, timeout=120):
        self.host = host
        self.port = port
        self.timeout = timeout
        self._conn = None

    @property
    def base_url(self):
        return 'http://%s:%d' % (self.host, self.port)

    def _request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=body,
                                   headers=headers or {})
                response = self._conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError('unreachable')

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def create_image(self, name, **fields):
        body = dict(fields, name=name)
        body.setdefault('disk_format', 'raw')
        body.setdefault('container_format', 'bare')
        status, data = self._request(
            'POST', '/v2/images', json.dumps(body).encode(),
            {'Content-Type': 'application/json'})
        if status != 201:
            raise APIError('create image: %d %s' % (status, data[:300]))
        return json.loads(data)['id']

    def get_image(self, image_id):
        status, data = self._request('GET', '/v2/images/%s' % image_id)
        if status != 200:
            raise APIError('get image: %d %s' % (status, data[:300]))
        return json.loads(data)

    def delete_image(self, image_id):
        status, data = self._request('DELETE', '/v2/images/%s' % image_id)
        if status not in (204, 404):
            raise APIError('delete image: %d %s' % (status, data[:300]))

    def list_ids(self, limit=1000):
        """Ids of every visible image, following ``next``."""
        ids, path = [], '/v2/images?limit=%d' % limit
        while path:
            status, data = self._request('GET', path)
            if status != 200:
                raise APIError('list images: %d %s' % (status, data[:300]))
            body = json.loads(data)
            ids.extend(image['id'] for image in body['images'])
            path = body.get('next')
            if path and not path.startswith('/v2'):
                path = '/v2' + path if path.startswith('/') else path
        return ids

    def file_url(self, image_id):
        return '%s/v2/images/%s/file' % (self.base_url, image_id)
