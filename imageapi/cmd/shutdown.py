"""Graceful stop of an imageapi-api worker: finish in time, or abort cleanly.

On SIGTERM gunicorn stops accepting and lets requests in flight run. After ``[wsgi]
graceful_timeout`` seconds, ``InFlight.abort`` shuts down the client socket of every
request the app is still handling: an upload then fails as if its client had gone
away, so it deletes its partial data and its temporary file and returns the image to
``queued``. gunicorn kills the worker only ``[wsgi] cleanup_timeout`` seconds later,
which that cleanup gets (imageapi/cmd/api.py sets gunicorn's graceful_timeout to the
sum).
"""

import signal
import socket
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class InFlight:
    """WSGI wrapper that knows the client socket of each request being handled.

    While the app runs (an upload reads its whole body there), the
    request's socket (``gunicorn.socket``) is in the set ``abort`` cuts.
    """

    def __init__(self, app):
        self.app = app
        self._sockets = set()
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        sock = environ.get('gunicorn.socket')
        if sock is None:
            return self.app(environ, start_response)
        with self._lock:
            self._sockets.add(sock)
        try:
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self._sockets.discard(sock)

    def abort(self):
        """Shut down the socket of every request still being handled.

        A read blocked on such a socket returns at once with no data; the
        request then ends as one whose client went away.

        :returns: how many requests were cut.
        """
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed meanwhile: that request is done
        return len(sockets)


def abort_after(in_flight, seconds):
    """From the first SIGTERM on, abort what still runs ``seconds`` later.

    Chains to the handler already installed (gunicorn's, which stops the
    worker's loop); call it in the worker, after gunicorn set its own
    (post_worker_init).
    """
    previous = signal.getsignal(signal.SIGTERM)
    armed = threading.Event()

    def _abort():
        count = in_flight.abort()
        if count:
            LOG.warning('Stopping: %d request(s) still running %d seconds '
                        'after SIGTERM ([wsgi] graceful_timeout) aborted; '
                        'their uploads return to queued.', count, seconds)

    def _on_sigterm(signum, frame):
        if callable(previous):
            previous(signum, frame)
        if not armed.is_set():
            armed.set()
            timer = threading.Timer(seconds, _abort)
            timer.daemon = True
            timer.start()

    signal.signal(signal.SIGTERM, _on_sigterm)
