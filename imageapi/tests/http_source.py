"""A loopback HTTP server whose answers a test sets path by path (web-download sources)."""

import http.server
import socket
import threading

import fixtures


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        """Quiet: the test asserts on ``requests`` instead."""

    def do_GET(self):
        owner = self.server.owner
        owner.requests.append((self.path, dict(self.headers.items())))
        route = owner.routes.get(self.path)
        if route is None:
            route = {'status': 404, 'body': b'not here', 'headers': {}}
        self.send_response(route['status'])
        for name, value in route['headers'].items():
            self.send_header(name, value)
        body = route['body']
        if route.get('chunked'):
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            self.wfile.write(b'%x\r\n%s\r\n0\r\n\r\n' % (len(body), body))
            return
        if 'Content-Length' not in route['headers']:
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        cut = route.get('cut_after')
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class SourceServer(fixtures.Fixture):
    """``ThreadingHTTPServer`` on 127.0.0.1, port chosen by the kernel.

    ``routes`` maps a request path (with its query) to what is answered;
    ``requests`` lists every (path, headers) received.
    """

    def _setUp(self):
        self.routes = {}
        self.requests = []
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      _Handler)
        self.server.daemon_threads = True
        self.server.owner = self
        self.port = self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    def url(self, path, host='127.0.0.1'):
        return 'http://%s:%d%s' % (host, self.port, path)

    def add(self, path, body=b'', status=200, headers=None, cut_after=None,
            chunked=False):
        """Answer GET ``path`` with ``body``; ``cut_after`` bytes then hang up.

        A ``Content-Length`` in ``headers`` replaces the true length;
        ``chunked`` sends the body as one chunk and no length.
        """
        self.routes[path] = {'status': status, 'body': body,
                             'headers': dict(headers or {}),
                             'cut_after': cut_after, 'chunked': chunked}

    def redirect(self, path, location, status=302):
        self.add(path, status=status, headers={'Location': location})
