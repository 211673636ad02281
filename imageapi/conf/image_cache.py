"""Options of the node-local image cache, in [DEFAULT] under Glance's names and defaults."""

from oslo_config import cfg

opts = [
    cfg.StrOpt('image_cache_dir',
               help='Directory of this node\'s image cache. When set, '
                    'downloads of active images are kept here and served '
                    'from local disk afterwards, for every store, and the '
                    '/v2/cache API is on; unset (the default), there is no '
                    'cache and /v2/cache answers 404. It holds the cached '
                    'files, an "incomplete" subdirectory for files being '
                    'filled, a "queue" subdirectory for images queued for '
                    'pre-fetch and the SQLite index cache.db; it must not '
                    'be shared between nodes.'),
    cfg.IntOpt('image_cache_max_size',
               default=10 * 1024 ** 3, min=0,
               help='Size, in bytes, above which the cache is pruned, least '
                    'recently used images first, until it fits. A threshold '
                    'for the periodic pruner and "imageapi-manage cache '
                    'prune", not a hard limit: between two prunes the cache '
                    'may grow past it. Default 10 GiB.'),
    cfg.IntOpt('image_cache_stall_time',
               default=86400, min=0,
               help='Seconds after which a file still being filled that no '
                    'process is writing is stalled; "imageapi-manage cache '
                    'clean" and POST /v2/cache/clean remove stalled files. '
                    'Default 24 hours.'),
    cfg.IntOpt('image_cache_interval',
               default=300, min=0, max=86400,
               help='Seconds between two runs of the cache keeper in each API '
                    'process: it fetches images queued for pre-fetch, drops '
                    'entries of images that are no longer active and prunes '
                    'the cache to image_cache_max_size; an image queued '
                    'through the API is fetched at once. 0 starts no such '
                    'thread: "imageapi-manage cache prefetch", "prune" and '
                    '"clean" then do its work.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
