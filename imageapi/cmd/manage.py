"""``imageapi-manage``: database schema, metadata definitions and image housekeeping commands."""

import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from imageapi.cmd import metadefs
from imageapi.common import config
from imageapi.db import api as db_api
from imageapi.db import migration
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
             ('db', 'purge_tasks'): _db_purge_tasks,
             ('image', 'reap'): _image_reap}


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
    db_actions.add_parser(
        'purge_tasks', help='Delete the tasks whose expires_at ([task] '
                            'task_time_to_live after they finished) has '
                            'passed.')
    image = subparsers.add_parser('image', help='Image housekeeping.')
    image_actions = image.add_subparsers(dest='action')
    image_actions.required = True
    image_actions.add_parser(
        'reap', help='Return uploads and stages whose lease expired (their '
                     'process died) to queued and delete their partial '
                     'data; fail such imports and put their images back '
                     'to an importable status.')


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
