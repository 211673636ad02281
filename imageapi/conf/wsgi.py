"""Options of the [wsgi] group: how imageapi-api serves the app with gunicorn."""

from oslo_config import cfg

group = cfg.OptGroup('wsgi', title='Built-in server options')

opts = [
    cfg.StrOpt('bind',
               default='127.0.0.1:9292',
               help='HOST:PORT the imageapi-api server listens on; '
                    '--bind overrides it.'),
    cfg.IntOpt('workers',
               default=2, min=1, max=256,
               help='Number of gunicorn worker processes; --workers '
                    'overrides it.'),
    cfg.IntOpt('threads',
               default=8, min=1, max=1024,
               help='Threads per worker (gthread). Each concurrent request, '
                    'including a long upload, holds one thread.'),
    cfg.IntOpt('timeout',
               default=120, min=1,
               help='Seconds a worker may go without a heartbeat before '
                    'gunicorn restarts it. gthread workers heartbeat from '
                    'their main loop, so a long upload does not count; '
                    'this only bounds a stuck worker.'),
    cfg.IntOpt('keepalive',
               default=5, min=0,
               help='Seconds an idle keep-alive connection stays open; 0 '
                    'closes connections after each response.'),
    cfg.IntOpt('graceful_timeout',
               default=30, min=0,
               help='Seconds a worker gets, after SIGTERM, to finish its '
                    'requests (uploads in flight); it stops accepting new '
                    'ones at once. Uploads still running then are aborted: '
                    'their images go back to queued and their partial data '
                    'is deleted (see cleanup_timeout).'),
    cfg.IntOpt('cleanup_timeout',
               default=10, min=1,
               help='Seconds a worker gets, once graceful_timeout has '
                    'passed after SIGTERM, to abort the uploads still '
                    'running (image back to queued, partial data and '
                    'temporary files deleted) before it is killed. Give '
                    'more to a store whose deletes are slow (Swift '
                    'segments).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
