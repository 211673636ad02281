"""Options of the [store] and [filesystem_store] groups: where image data goes."""

from oslo_config import cfg

from imageapi.conf import rbd_store
from imageapi.conf import s3_store
from imageapi.conf import swift_store

group = cfg.OptGroup('store', title='Image data store options')
fs_group = cfg.OptGroup('filesystem_store', title='Filesystem store options')

opts = [
    cfg.StrOpt('driver',
               default='file',
               help='Store driver, by its name in the imageapi.store.drivers '
                    'entry-point namespace.'),
    cfg.IntOpt('chunk_size',
               default=1024 * 1024, min=4096, max=64 * 1024 * 1024,
               help='Bytes read from the client or the store per step while '
                    'image data streams. An upload holds at most a few '
                    'chunks in memory. Chunks of 256 KiB and more are '
                    'hashed on two threads (md5 and os_hash_algo), which '
                    'makes uploads about twice as fast on two cores.'),
]

fs_opts = [
    cfg.StrOpt('datadir',
               default='$state_path/images',
               help='Directory that holds image files. Temporary files of '
                    'running uploads live in its .tmp subdirectory, on the '
                    'same filesystem.'),
    cfg.BoolOpt('fsync',
                default=True,
                help='fsync each image file before it becomes visible, and '
                     'its directory after. Turn off only for throwaway '
                     'setups: a crash may then lose acknowledged data.'),
    cfg.IntOpt('sync_interval',
               default=64 * 1024 * 1024, min=0,
               help='Bytes written between fdatasync calls during an upload, '
                    'to bound dirty pages; 0 syncs only at the end.'),
]


# Several stores at once, with Glance's option names (glance_store's
# multi-store): [DEFAULT] enabled_backends, [glance_store] default_backend,
# and one group per store, named by its id.
multi_opts = [
    cfg.DictOpt('enabled_backends',
                help='Stores by id and type, as "id:type, id:type", e.g. '
                     '"fast:file, cloud:swift". Each id names an option '
                     'group with that store\'s options (store_description, '
                     'weight, filesystem_store_datadir for file stores, the '
                     'swift_store_* options for Swift, rbd_store_* for Ceph '
                     'RBD, s3_store_* for S3). Unset: one store, '
                     'the [store] driver.'),
]

glance_store_group = cfg.OptGroup('glance_store',
                                  title='Multi-store options')
glance_store_opts = [
    cfg.StrOpt('default_backend',
               help='The id (from enabled_backends) of the store that '
                    'uploads go to when they name none. Required when '
                    'enabled_backends is set.'),
]

# Registered per store, in the group named by the store id.
backend_opts = [
    cfg.StrOpt('store_description', default='',
               help='What GET /v2/info/stores says about this store.'),
    cfg.IntOpt('weight', default=0, min=0,
               help='Downloads try the locations of an image in stores of '
                    'higher weight first.'),
]
file_backend_opts = [
    cfg.StrOpt('filesystem_store_datadir',
               help='Directory of this file store; required. Temporary '
                    'files of running uploads live in its .tmp '
                    'subdirectory. The [filesystem_store] fsync options '
                    'apply to every file store.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    conf.register_group(fs_group)
    conf.register_opts(fs_opts, group=fs_group)
    conf.register_opts(multi_opts)
    conf.register_group(glance_store_group)
    conf.register_opts(glance_store_opts, group=glance_store_group)


def register_backend_opts(conf, backend, store_type):
    """Register the options of store ``backend`` (an enabled_backends id)."""
    conf.register_group(cfg.OptGroup(backend,
                                     title='Options of store %s' % backend))
    conf.register_opts(backend_opts, group=backend)
    if store_type == 'file':
        conf.register_opts(file_backend_opts, group=backend)
    elif store_type == 'swift':
        swift_store.register_opts(conf, backend)
    elif store_type == 'rbd':
        rbd_store.register_opts(conf, backend)
    elif store_type == 's3':
        s3_store.register_opts(conf, backend)


def list_opts():
    return {group: opts, fs_group: fs_opts, 'DEFAULT': multi_opts,
            glance_store_group: glance_store_opts}
