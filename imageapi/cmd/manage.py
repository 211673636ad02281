"""``imageapi-manage``: database schema, metadata definitions and image housekeeping commands."""

import sys
import time

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from imageapi.cache import directory as cache_directory
from imageapi.cache import keeper as cache_keeper
from imageapi.cmd import metadefs
from imageapi.common import config
from imageapi import context
from imageapi.db import api as db_api
from imageapi.db import migration
from imageapi.db import purge
from imageapi.importing import engine
from imageapi import leases
from imageapi import service
from imageapi import store
from imageapi.store import filesystem


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


# Exit status when an option value is out of range (as glance-manage's 1).
INVALID_VALUE = 1
# An int column of every database holds at most this (Glance's bound).
_MAX_INT = 2 ** 31 - 1


def _purge_limits_error(conf):
    """Glance's message for an age or row limit out of range, or None."""
    age, max_rows = conf.category.age_in_days, conf.category.max_rows
    if age < 0:
        return 'Must supply a non-negative value for age.'
    if age >= int(time.time()) / 86400:
        return 'Maximal age is count of days since epoch.'
    if max_rows < -1:
        return 'Minimal rows limit is -1.'
    if max_rows == 0:
        return 'max_rows must be at least 1, or -1 for no limit.'
    if max_rows > _MAX_INT:
        return ("'max_rows' value out of range, must not exceed %d."
                % _MAX_INT)
    return None


def _purge(conf, purge_fn):
    error = _purge_limits_error(conf)
    if error:
        print('imageapi-manage: %s' % error, file=sys.stderr)
        return INVALID_VALUE
    counts = purge_fn(context.get_admin_context(), conf.category.age_in_days,
                      conf.category.max_rows)
    for table, rows in counts.items():
        print('Deleted %d row(s) from table %s' % (rows, table))
    return 0


def _db_purge(conf):
    return _purge(conf, purge.purge_deleted_rows)


def _db_purge_images_table(conf):
    return _purge(conf, purge.purge_deleted_images)


def _image_reap(conf):
    stores = store.Stores(conf)
    staging = filesystem.FilesystemDriver(conf, group=service.STAGING_GROUP)
    reaped = leases.reap_expired(stores, staging=staging)
    for image_id in reaped:
        print('Image %s: expired upload or stage reaped, status queued'
              % image_id)
    print('%d expired uploads reaped' % len(reaped))
    failed = engine.reap_expired(conf, stores, staging)
    for task_id in failed:
        print('Task %s: expired import failed' % task_id)
    print('%d expired imports failed' % len(failed))


def _db_purge_tasks(conf):
    print('%d expired tasks purged' % leases.purge_expired_tasks())


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
             ('db', 'purge'): _db_purge,
             ('db', 'purge_images_table'): _db_purge_images_table,
             ('db', 'load_metadefs'): _db_load_metadefs,
             ('db', 'unload_metadefs'): _db_unload_metadefs,
             ('db', 'export_metadefs'): _db_export_metadefs,
             ('db', 'purge_tasks'): _db_purge_tasks,
             ('image', 'reap'): _image_reap,
             ('cache', 'prune'): _cache_prune,
             ('cache', 'prefetch'): _cache_prefetch,
             ('cache', 'clean'): _cache_clean}


def _command(parsers, name, text):
    """A sub-command whose ``--help`` says what it does, as the list does."""
    return parsers.add_parser(name, help=text, description=text)


def _add_parsers(subparsers):
    db = _command(subparsers, 'db', 'Database schema, housekeeping and '
                                    'metadata definitions commands.')
    db_actions = db.add_subparsers(dest='action')
    db_actions.required = True
    _command(db_actions, 'sync', 'Upgrade the schema to the newest '
                                 'revision.')
    _command(db_actions, 'version', 'Print the schema revision.')
    _command(db_actions, 'check',
             'Exit with status %d (and say so) when the schema is not at '
             'this release\'s revision, 0 when it is.' % SCHEMA_OUTDATED)
    _add_purge_parser(
        db_actions, 'purge', 30,
        'Delete for good what hangs off images deleted more than '
        '--age-in-days ago (properties, tags, members, locations) and '
        'locations removed that long ago; the images rows stay, so their '
        'IDs are never used again.',
        'rows per table')
    _add_purge_parser(
        db_actions, 'purge_images_table', 180,
        'Delete for good the rows of images deleted more than '
        '--age-in-days ago, with what still hangs off them. Their IDs may '
        'then be given to new images (OSSN-0075): keep the age longer than '
        'anything may still refer to them.',
        'images')
    load = _command(db_actions, 'load_metadefs',
                    'Load metadata definition namespaces from JSON files '
                    'in Glance\'s format.')
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
    _command(db_actions, 'unload_metadefs',
             'Delete every metadata definition.')
    export = _command(db_actions, 'export_metadefs',
                      'Write each namespace to a .json file.')
    export.add_argument('--path', help='Directory to write to (created if '
                                       'missing); default: the current '
                                       'directory.')
    _command(db_actions, 'purge_tasks',
             'Delete the tasks whose expires_at ([task] task_time_to_live '
             'after they finished) has passed.')
    image = _command(subparsers, 'image', 'Image housekeeping.')
    image_actions = image.add_subparsers(dest='action')
    image_actions.required = True
    _command(image_actions, 'reap',
             'Return uploads and stages whose lease expired (their process '
             'died) to queued and delete their partial data; fail such '
             'imports and put their images back to an importable status.')
    cache = _command(subparsers, 'cache',
                     'The image cache of this node (image_cache_dir).')
    cache_actions = cache.add_subparsers(dest='action')
    cache_actions.required = True
    _command(cache_actions, 'prune',
             'Remove least recently used cached images until the cache fits '
             'image_cache_max_size.')
    _command(cache_actions, 'prefetch',
             'Fetch the images queued for caching (PUT '
             '/v2/cache/{image_id}) into this node\'s cache.')
    clean = _command(cache_actions, 'clean',
                     'Remove stalled fills (older than image_cache_stall_time), '
                     'cache files changed since they were verified and '
                     'entries of images no longer active; index files the '
                     'index lost.')
    clean.add_argument('--verify', action='store_true',
                       help='Also read every cached file and remove those '
                            'whose hash no longer matches (bit rot); reads '
                            'the whole cache.')


def _add_purge_parser(db_actions, name, default_age, description, what):
    parser = _command(db_actions, name, description)
    parser.add_argument('--age-in-days', '--age_in_days', type=int,
                        default=default_age, dest='age_in_days',
                        metavar='DAYS',
                        help='Only images deleted more than DAYS days ago '
                             '(default %d; 0 for all).' % default_age)
    parser.add_argument('--max-rows', '--max_rows', type=int, default=100,
                        dest='max_rows', metavar='N',
                        help='Delete at most N %s in this run (default '
                             '100; -1 for no limit). Rows go in batches of '
                             '%d, each its own transaction.'
                             % (what, purge.BATCH_ROWS))


# Exit status when the database cannot be reached or refuses the command.
DATABASE_ERROR = 3


def main(argv=None):
    conf = config.new_conf()
    conf.register_cli_opt(cfg.SubCommandOpt(
        'category', title='Command categories', handler=_add_parsers))
    config.parse_args(sys.argv[1:] if argv is None else argv, conf,
                      prog='imageapi-manage',
                      description='Database and image housekeeping commands '
                                  'of imageapi. Exit status: 0 done; 1 a '
                                  'config file missing or an option value '
                                  'out of range; 2 a usage '
                                  'error; %d the database cannot be reached '
                                  'or refused the command; %d (db check) the '
                                  'schema is behind this release.'
                                  % (DATABASE_ERROR, SCHEMA_OUTDATED))
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
