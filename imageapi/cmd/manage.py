"""``imageapi-manage``: database schema commands for operators."""

import sys

from oslo_config import cfg

from imageapi.common import config
from imageapi.db import api as db_api
from imageapi.db import migration
from imageapi import leases
from imageapi import store


def _db_sync(conf):
    migration.upgrade('head')
    print('Database is at revision %s' % migration.version())


def _db_version(conf):
    print(migration.version() or 'None')


def _image_reap(conf):
    reaped = leases.reap_expired(store.Stores(conf))
    for image_id in reaped:
        print('Image %s: expired upload reaped, status queued' % image_id)
    print('%d expired uploads reaped' % len(reaped))


_COMMANDS = {('db', 'sync'): _db_sync, ('db', 'version'): _db_version,
             ('image', 'reap'): _image_reap}


def _add_parsers(subparsers):
    db = subparsers.add_parser('db', help='Database schema commands.')
    db_actions = db.add_subparsers(dest='action')
    db_actions.required = True
    db_actions.add_parser('sync', help='Upgrade the schema to the newest '
                                       'revision.')
    db_actions.add_parser('version', help='Print the schema revision.')
    image = subparsers.add_parser('image', help='Image housekeeping.')
    image_actions = image.add_subparsers(dest='action')
    image_actions.required = True
    image_actions.add_parser(
        'reap', help='Return uploads whose lease expired (their process '
                     'died) to queued and delete their partial data.')


def main(argv=None):
    conf = config.new_conf()
    conf.register_cli_opt(cfg.SubCommandOpt(
        'category', title='Command categories', handler=_add_parsers))
    config.parse_args(sys.argv[1:] if argv is None else argv, conf)
    db_api.configure(conf)
    command = _COMMANDS[(conf.category.name, conf.category.action)]
    command(conf)
    return 0


if __name__ == '__main__':
    sys.exit(main())
