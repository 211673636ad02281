"""Per-request cost of the WSGI app alone: SQL statements, connections, CPU time.

Run in a subprocess with the server's environment (part of ``--profile``):
``python sqlcount.py CONFIG_FILE IDS_FILE COUNT``. It loads the same paste pipeline
in process and calls it with webob.Request.blank, so no HTTP server is involved;
comparing its ms per request with the server's CPU per request splits the cost
between the app and gunicorn/HTTP. Prints one JSON object.
"""

import json
import random
import sys
import time

import sqlalchemy as sa
import webob

from imageapi.common import config
from imageapi.db import api as db_api
from imageapi import service

PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
COUNTS = {'statements': 0, 'connects': 0, 'checkouts': 0}


def _count(key):
    def listener(*args, **kwargs):
        COUNTS[key] += 1
    return listener


def _request(name, ids, rand, index):
    if name == 'show':
        return webob.Request.blank('/v2/images/' + rand.choice(ids))
    if name == 'list':
        return webob.Request.blank('/v2/images?limit=20')
    if name == 'list_filter':
        return webob.Request.blank('/v2/images?limit=20&status=active')
    if name == 'create':
        body = {'name': 'sqlcount-%d' % index, 'disk_format': 'raw',
                'container_format': 'bare', 'os_distro': 'cirros'}
        return webob.Request.blank(
            '/v2/images', method='POST', body=json.dumps(body).encode(),
            content_type='application/json')
    if name == 'patch':
        ops = [{'op': 'replace', 'path': '/name',
                'value': 'sqlcount-%d' % index}]
        return webob.Request.blank(
            '/v2/images/' + rand.choice(ids), method='PATCH',
            body=json.dumps(ops).encode(), content_type=PATCH_TYPE)
    raise ValueError(name)


def measure(app, name, ids, count):
    rand = random.Random(1)
    for index in range(10):
        _request(name, ids, rand, index).get_response(app)
    before = dict(COUNTS)
    statuses = {}
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(count):
        response = _request(name, ids, rand, index).get_response(app)
        statuses[response.status_int] = statuses.get(response.status_int,
                                                     0) + 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {key: round((COUNTS[key] - before[key]) / count, 2)
              for key in COUNTS}
    result.update(wall_ms_per_req=round(wall * 1000 / count, 3),
                  cpu_ms_per_req=round(cpu * 1000 / count, 3),
                  statuses={str(k): v for k, v in statuses.items()})
    return result


def main(argv):
    config_file, ids_file, count = argv[0], argv[1], int(argv[2])
    with open(ids_file) as f:
        ids = f.read().split()
    conf = config.new_conf()
    config.parse_args(['--config-file', config_file], conf)
    # The counters go on the app's own engine, once made (for a SQLite
    # file db/sqlite.py replaces the pool oslo.db made), and before the app
    # starts threads that use it: SQLAlchemy adds listeners unlocked.
    # The start-up step's db_api.configure is then a no-op.
    db_api.configure(conf)
    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', _count('statements'))
    sa.event.listen(engine, 'connect', _count('connects'))
    sa.event.listen(engine, 'checkout', _count('checkouts'))
    app = config.load_paste_app(conf, service.start(conf))
    result = {name: measure(app, name, ids, count)
              for name in ('show', 'list', 'list_filter', 'create', 'patch')}
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
