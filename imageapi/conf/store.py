"""Options of the [store] and [filesystem_store] groups: where image data goes."""

from oslo_config import cfg

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


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    conf.register_group(fs_group)
    conf.register_opts(fs_opts, group=fs_group)


def list_opts():
    return {group: opts, fs_group: fs_opts}
