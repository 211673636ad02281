"""Options of the [upload] group: upload claims, their leases and the reaper."""

from oslo_config import cfg

group = cfg.OptGroup('upload', title='Image upload options')

opts = [
    cfg.IntOpt('lease_seconds',
               default=30, min=5, max=3600,
               help='Seconds an upload claim on an image stays valid '
                    'without renewal. The process running the upload renews '
                    'it every third of this; when the process dies, the '
                    'claim expires after at most this long and the reaper '
                    'puts the image back to queued.'),
    cfg.IntOpt('body_idle_timeout',
               default=60, min=1, max=3600,
               help='Seconds an upload may go without receiving a byte of '
                    'its body (also after Expect: 100-continue) before it '
                    'is answered 408 and its image is queued again. Applies '
                    'under gunicorn (imageapi-api, or gunicorn serving '
                    'imageapi.wsgi:application); behind mod_wsgi, Apache\'s '
                    'own Timeout applies instead.'),
    cfg.IntOpt('reap_interval',
               default=10, min=0, max=3600,
               help='Seconds between two scans for expired upload claims in '
                    'each API process; 0 turns the periodic scan off '
                    '(imageapi-manage image reap still works). A crashed '
                    'upload is back to queued after at most lease_seconds '
                    'plus this.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
