"""``imageapi-api``: serve the paste app under gunicorn.

With no config file this is the embedded default: SQLite and the filesystem store under
``[DEFAULT] state_path``, the noauth pipeline, 127.0.0.1:9292. Workers are gthread:
a long upload holds a thread, never trips the worker heartbeat timeout.
"""

import ctypes
import ctypes.util
import os
import sys

from gunicorn.app import base as gunicorn_base
from oslo_config import cfg
from oslo_log import log as logging

from imageapi.cmd import gunicorn_input
from imageapi.cmd import shutdown
from imageapi.common import config
from imageapi import service

LOG = logging.getLogger(__name__)

# mallopt(3) parameters of glibc.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

cli_opts = [
    cfg.StrOpt('bind', metavar='HOST:PORT',
               help='Address to listen on; overrides [wsgi] bind. Port 0 '
                    'picks a free port, printed on start.'),
    cfg.IntOpt('workers', min=1, max=256,
               help='Worker processes; overrides [wsgi] workers.'),
]


def listener_url(listener):
    """``http://HOST:PORT`` of a bound gunicorn listener (the real port)."""
    address = listener.getsockname()
    if not isinstance(address, tuple):
        return 'unix:%s' % address
    host, port = address[:2]
    if ':' in host:
        host = '[%s]' % host
    return 'http://%s:%d' % (host, port)


class Server(gunicorn_base.BaseApplication):
    """gunicorn application whose workers each load the paste app."""

    def __init__(self, conf):
        self.conf = conf
        super().__init__()

    def load_config(self):
        wsgi = self.conf.wsgi
        settings = {
            'bind': self.conf.bind or wsgi.bind,
            'workers': self.conf.workers or wsgi.workers,
            'worker_class': 'gthread',
            'threads': wsgi.threads,
            # gthread workers heartbeat from their main loop, so this only
            # bounds a stuck worker, not a long upload.
            'timeout': wsgi.timeout,
            'keepalive': wsgi.keepalive,
            # Requests get graceful_timeout; uploads still running then
            # are aborted and get cleanup_timeout to clean up before
            # gunicorn kills the worker (cmd/shutdown.py).
            'graceful_timeout': wsgi.graceful_timeout + wsgi.cleanup_timeout,
            'post_worker_init': self._post_worker_init,
            'proc_name': 'imageapi-api',
            'limit_request_line': 16384,
            # One access line per request comes from the paste pipeline
            # (api/middleware/access_log.py), the same under mod_wsgi.
            'accesslog': None,
            'when_ready': self._when_ready,
        }
        # gunicorn >= 25.1 opens a control socket at one fixed path per
        # user, which two servers (or parallel test runs) would fight over.
        if 'control_socket_disable' in self.cfg.settings:
            settings['control_socket_disable'] = True
        for key, value in settings.items():
            self.cfg.set(key, value)

    @staticmethod
    def _when_ready(server):
        for listener in server.LISTENERS:
            print('imageapi-api listening on %s' % listener_url(listener),
                  flush=True)

    def load(self):
        # In each worker, after the fork: the start-up step's threads and
        # database connections must belong to the process that uses them.
        app = config.load_paste_app(self.conf, service.start(self.conf))
        self.in_flight = shutdown.InFlight(gunicorn_input.FastInput(
            app, idle_timeout=self.conf.upload.body_idle_timeout))
        return self.in_flight

    def _post_worker_init(self, worker):
        # In the worker, once gunicorn has set its signal handlers and
        # called load().
        shutdown.abort_after(self.in_flight, self.conf.wsgi.graceful_timeout)


def _ensure_schema(conf):
    """Create or check the schema (db.migration.ensure_schema) in a child.

    The arbiter forks every worker: whatever it imports, each worker
    carries as resident memory. Alembic and the migration machinery are
    needed once, at start, so they live and die in a short-lived child.
    """
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            from imageapi.db import api as db_api
            from imageapi.db import migration
            db_api.configure(conf)
            migration.ensure_schema(conf)
            code = 0
        except Exception as exc:
            LOG.error('Cannot start: %s', exc)
            print('imageapi-api: %s' % exc, file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _tune_malloc():
    """Keep image chunks out of glibc's heap, so RSS stays flat.

    glibc raises its mmap threshold to the size of every mmapped block
    that is freed, so after the first 1 MiB chunk the following ones come
    from the heap arenas (one per thread) and fragment them: a worker's RSS
    then grows with the uploads it served. A fixed threshold keeps large
    chunks mmapped and returned at once; workers inherit it on fork.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(_M_ARENA_MAX, 4)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


def main(argv=None):
    _tune_malloc()
    conf = config.new_conf()
    conf.register_cli_opts(cli_opts)
    config.parse_args(sys.argv[1:] if argv is None else argv, conf,
                      prog='imageapi-api',
                      description='Serve the OpenStack Image API v2 with '
                                  'gunicorn.')
    config.setup_logging(conf)
    if not _ensure_schema(conf):
        return 1
    Server(conf).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
