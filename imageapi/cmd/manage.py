"""``imageapi-manage``: database schema, metadata definitions and image housekeeping commands."""

import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from imageapi.cache import directory as cache_directory
from imageapi.cache import keeper as cache_keeper
from imageapi.cmd import metadefs
from imageapi.common import config
from imageapi.db import api as db_api
from imageapi.db import migration
from imageapi import leases
from imageapi import store


LOG = logging.getLogger(__name__)


def _db_sync(conf):
    migration.upgrade('head')
    print('Database is at revision %s' % migration.version())


def _db_version(conf):
    print(migration.version() or 'None')


# Exit status of `db check` when the schema is not at this release's head.
SCHEMA_OUTDATED = 4


def _db_check(conf):
    """Exit 0 when the schema is current, SCHEMA_OUTDATED when not."""
    current, head = migration.version(), migration.head()
    if current == head:
        print('Database is up to date at revision %s' % head)
        return 0
    print('Database is at revision %s; this release needs %s: run '
          '"imageapi-manage db sync".' % (current, head), file=sys.stderr)
    return SCHEMA_OUTDATED


def _image_reap(conf):
    reaped = leases.reap_expired(store.Stores(conf))
    for image_id in reaped:
        print('Image %s: expired upload reaped, status queued' % image_id)
    print('%d expired uploads reaped' % len(reaped))


# Exit status of the cache commands when this node has no cache.
CACHE_OFF = 2


def _node_cache(conf):
    cache = cache_directory.ImageCache.from_conf(conf)
    if cache is None:
        print('imageapi-manage: [DEFAULT] image_cache_dir is not set; this '
              'node has no image cache.', file=sys.stderr)
    return cache


def _cache_prune(conf):
    cache = _node_cache(conf)
    if cache is None:
        return CACHE_OFF
    files, size = cache.prune()
    print('%d cached images pruned, %d bytes freed; %d bytes cached of at '
          'most %d' % (files, size, cache.total_size(), cache.max_size))


def _cache_prefetch(conf):
    cache = _node_cache(conf)
    if cache is None:
        return CACHE_OFF
    done = cache_keeper.prefetch(cache, store.Stores(conf))
    for image_id in done:
        print('Image %s cached' % image_id)
    left = cache.queued_images()
    print('%d queued images cached, %d still queued' % (len(done), len(left)))


def _cache_clean(conf):
    cache = _node_cache(conf)
    if cache is None:
        return CACHE_OFF
    removed = cache.clean(conf.hashing_algorithm)
    if conf.category.verify:
        removed += sum(not cache.verify(image_id)
                       for image_id in cache.cached_ids())
    gone = cache_keeper.sweep(cache)
    for image_id in gone:
        print('Image %s: not active any more, removed from the cache'
              % image_id)
    print('%d stalled or invalid cache files removed, %d entries of '
          'inactive images' % (removed, len(gone)))


def _db_load_metadefs(conf):
    return metadefs.load(conf.category.path, merge=conf.category.merge,
                         prefer_new=conf.category.prefer_new,
                         overwrite=conf.category.overwrite)


def _db_unload_metadefs(conf):
    return metadefs.unload()


def _db_export_metadefs(conf):
    return metadefs.export(conf.category.path)


_COMMANDS = {('db', 'sync'): _db_sync, ('db', 'version'): _db_version,
             ('db', 'check'): _db_check,
             ('db', 'load_metadefs'): _db_load_metadefs,
             ('db', 'unload_metadefs'): _db_unload_metadefs,
             ('db', 'export_metadefs'): _db_export_metadefs,
             ('image', 'reap'): _image_reap,
             ('cache', 'prune'): _cache_prune,
             ('cache', 'prefetch'): _cache_prefetch,
             ('cache', 'clean'): _cache_clean}


def _add_parsers(subparsers):
    db = subparsers.add_parser('db', help='Database schema commands.')
    db_actions = db.add_subparsers(dest='action')
    db_actions.required = True
    db_actions.add_parser('sync', help='Upgrade the schema to the newest '
                                       'revision.')
    db_actions.add_parser('version', help='Print the schema revision.')
    db_actions.add_parser(
        'check', help='Exit with status %d (and say so) when the schema is '
                      'not at this release\'s revision, 0 when it is.'
                      % SCHEMA_OUTDATED)
    load = db_actions.add_parser(
        'load_metadefs', help='Load metadata definition namespaces from '
                              'JSON files in Glance\'s format.')
    load.add_argument('--path', help='A directory of .json files, or one '
                                     'file; default: the shipped catalog.')
    load.add_argument('--merge', action='store_true',
                      help='Add to namespaces that exist instead of '
                           'skipping them.')
    load.add_argument('--prefer_new', action='store_true',
                      help='With --merge: what a file changes replaces '
                           'what is stored.')
    load.add_argument('--overwrite', action='store_true',
                      help='With --merge: replace existing namespaces '
                           'outright.')
    db_actions.add_parser('unload_metadefs',
                          help='Delete every metadata definition.')
    export = db_actions.add_parser(
        'export_metadefs', help='Write each namespace to a .json file.')
    export.add_argument('--path', help='Directory to write to (created if '
                                       'missing); default: the current '
                                       'directory.')
    image = subparsers.add_parser('image', help='Image housekeeping.')
    image_actions = image.add_subparsers(dest='action')
    image_actions.required = True
    image_actions.add_parser(
        'reap', help='Return uploads whose lease expired (their process '
                     'died) to queued and delete their partial data.')
    cache = subparsers.add_parser(
        'cache', help='The image cache of this node (image_cache_dir).')
    cache_actions = cache.add_subparsers(dest='action')
    cache_actions.required = True
    cache_actions.add_parser(
        'prune', help='Remove least recently used cached images until the '
                      'cache fits image_cache_max_size.')
    cache_actions.add_parser(
        'prefetch', help='Fetch the images queued for caching (PUT '
                         '/v2/cache/{image_id}) into this node\'s cache.')
    clean = cache_actions.add_parser(
        'clean', help='Remove stalled fills (older than '
                      'image_cache_stall_time), cache files changed since '
                      'they were verified and entries of images no longer '
                      'active; index files the index lost.')
    clean.add_argument('--verify', action='store_true',
                       help='Also read every cached file and remove those '
                            'whose hash no longer matches (bit rot); reads '
                            'the whole cache.')


# Exit status when the database cannot be reached or refuses the command.
DATABASE_ERROR = 3


def main(argv=None):
    conf = config.new_conf()
    conf.register_cli_opt(cfg.SubCommandOpt(
        'category', title='Command categories', handler=_add_parsers))
    config.parse_args(sys.argv[1:] if argv is None else argv, conf,
                      prog='imageapi-manage',
                      description='Database and image housekeeping commands '
                                  'of imageapi.')
    config.setup_logging(conf)
    db_api.configure(conf)
    command = _COMMANDS[(conf.category.name, conf.category.action)]
    try:
        return command(conf) or 0
    except (db_exc.DBError,) + db_api.UNAVAILABLE_ERRORS as exc:
        # One line, not a traceback; --debug logs the details.
        LOG.debug('Database error', exc_info=True)
        print('imageapi-manage: database error: %s'
              % str(exc).splitlines()[0], file=sys.stderr)
        return DATABASE_ERROR


if __name__ == '__main__':
    sys.exit(main())
