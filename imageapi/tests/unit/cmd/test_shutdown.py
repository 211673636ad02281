"""cmd/shutdown.py: requests in flight cut after graceful_timeout, SIGTERM chained."""

import signal
import socket
import threading

from imageapi.cmd import shutdown
from imageapi.tests import base


class TestInFlight(base.TestCase):

    def test_abort_ends_blocked_read_of_request_being_handled(self):
        server_side, client_side = socket.socketpair()
        self.addCleanup(server_side.close)
        self.addCleanup(client_side.close)
        reading = threading.Event()
        seen = {}

        def app(environ, start_response):
            reading.set()
            seen['data'] = environ['gunicorn.socket'].recv(10)
            return [b'']
        in_flight = shutdown.InFlight(app)
        thread = threading.Thread(
            target=in_flight, args=({'gunicorn.socket': server_side}, None))
        thread.start()
        reading.wait()

        # In the set from before the app is called until it returns.
        self.assertEqual(1, in_flight.abort())
        thread.join()

        self.assertEqual(b'', seen['data'])
        self.assertEqual(0, in_flight.abort())

    def test_request_without_gunicorn_socket_passes_through(self):
        in_flight = shutdown.InFlight(lambda environ, start: [b'ok'])

        self.assertEqual([b'ok'], in_flight({}, None))
        self.assertEqual(0, in_flight.abort())


class TestAbortAfter(base.TestCase):

    def setUp(self):
        super().setUp()
        previous = signal.getsignal(signal.SIGTERM)
        self.addCleanup(signal.signal, signal.SIGTERM, previous)
        self.calls = []
        signal.signal(signal.SIGTERM,
                      lambda signum, frame: self.calls.append('gunicorn'))

    def test_sigterm_chains_previous_handler_and_aborts(self):
        aborted = threading.Event()

        class InFlight:
            def abort(inner):
                self.calls.append('abort')
                aborted.set()
                return 0
        shutdown.abort_after(InFlight(), 0)

        signal.raise_signal(signal.SIGTERM)
        aborted.wait()
        signal.raise_signal(signal.SIGTERM)

        self.assertEqual(['gunicorn', 'abort', 'gunicorn'], self.calls)
