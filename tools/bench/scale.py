"""--scale N: the catalog at N images on PostgreSQL, as two API nodes see it.

1. A fresh ``bench_<random>`` database, ``imageapi-manage db sync``ed.
2. 1,000 images seeded in bulk: ``COPY ... FROM STDIN`` (psycopg2's ``copy_expert`` on
   the DBAPI connection of an SQLAlchemy engine) straight into the tables that db sync
   made, with the rows seed_imageapi.py writes through the repository: three extra
   properties and two tags per image, every second image active with size, hashes and
   a location. As a superuser, without the per-row foreign key triggers (see seed).
   Then ``VACUUM ANALYZE``, as autovacuum would do soon after a bulk load.
3. Two imageapi-api nodes on that database. From each node in turn, with one
   connection: ``show`` (a random seeded image) and ``list`` (the first page,
   ``limit=20``), ``duration`` seconds each after an unrecorded warm-up.
4. Seeded up to N the same way, ``VACUUM ANALYZE``, the same latency tests.
5. Every image listed, ``limit=1000`` (``[DEFAULT] api_limit_max``), following ``next``,
   pages alternating between the nodes; each page timed, the ids counted and checked
   for duplicates. Twice, the second pass starting on the other node; each page's
   time is the faster of the two (the machine is shared: one slow page is noise, a
   trend in both passes is not).
"""

import hashlib
import http.client
import io
import json
import os
import random
import statistics
import time
import uuid

import sqlalchemy as sa

import metadata
import servers

SMALL = 1000
PAGE_LIMIT = 1000
# Images per COPY round (one transaction for all of them).
_COPY_BATCH = 50000
_EPOCH = 1767225600.0  # 2026-01-01T00:00:00Z
_IMAGE_COLUMNS = (
    'id', 'name', 'disk_format', 'container_format', 'size', 'virtual_size',
    'status', 'visibility', 'checksum', 'os_hash_algo', 'os_hash_value',
    'min_disk', 'min_ram', 'owner', 'protected', 'os_hidden', 'deleted',
    'upload_reserved', 'created_at', 'updated_at')


def _timestamp(index):
    """One millisecond apart, in seeding order: a total created_at order."""
    return time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(
        _EPOCH + index // 1000)) + '.%03d' % (index % 1000)


def _rows(start, count):
    """CSV text of each table for images ``start`` .. ``start + count``."""
    tables = {name: io.StringIO() for name in
              ('images', 'image_properties', 'image_tags', 'image_locations')}
    ids = []
    for index in range(start, start + count):
        image_id = str(uuid.uuid4())
        ids.append(image_id)
        created = _timestamp(index)
        active = index % 2 == 0
        if active:
            digest = hashlib.sha512(image_id.encode()).hexdigest()
            md5 = hashlib.md5(image_id.encode(),
                              usedforsecurity=False).hexdigest()
            size, status, updated = str(1 << 30), 'active', created
        else:
            digest = md5 = size = updated = ''
            status = 'queued'
        tables['images'].write(','.join((
            image_id, 'bench-%07d' % index, ('qcow2', 'raw')[index % 2],
            'bare', size, size, status, ('public', 'shared')[index % 2], md5,
            'sha512' if active else '', digest, '0', '0', 'bench-project',
            'f', 'f', 'f', '0', created, updated)) + '\n')
        for name, value in (('os_distro', 'ubuntu'),
                            ('os_version', '%d.04' % (16 + index % 10)),
                            ('hw_disk_bus', 'virtio')):
            tables['image_properties'].write('%s,%s,%s,%s\n' % (
                image_id, name, value, created))
        for tag in ('bench', 'seed-%d' % (index % 10)):
            tables['image_tags'].write('%s,%s,%s\n' % (image_id, tag,
                                                       created))
        if active:
            tables['image_locations'].write(
                '%s,file:///nonexistent/%s,{},active,%s\n' % (
                    image_id, image_id, created))
    return ids, tables


_COPY = {
    'images': 'COPY images (%s) FROM STDIN WITH (FORMAT csv)'
              % ', '.join(_IMAGE_COLUMNS),
    'image_properties': 'COPY image_properties (image_id, name, value, '
                        'created_at) FROM STDIN WITH (FORMAT csv)',
    'image_tags': 'COPY image_tags (image_id, value, created_at) '
                  'FROM STDIN WITH (FORMAT csv)',
    'image_locations': 'COPY image_locations (image_id, value, meta_data, '
                       'status, created_at) FROM STDIN WITH (FORMAT csv)',
}


def _drop_plain_indexes(cursor):
    """Drop the seeded tables' indexes that back no constraint.

    Built once after the COPY, by sorting, they cost a fraction of keeping
    them up row by row (at 1M images their pages no longer fit in
    PostgreSQL's default 128 MB of shared buffers). Primary keys and
    unique constraints stay. The same transaction makes them again from
    PostgreSQL's own definitions: the schema is db sync's afterwards.

    :returns: the CREATE INDEX statements to run after the COPY.
    """
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename IN %s "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint) "
        "AND indexdef NOT LIKE 'CREATE UNIQUE %%'", (tuple(_COPY),))
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute('DROP INDEX "%s"' % name)
    return [definition for _name, definition in found]


def seed(db_url, start, count):
    """COPY ``count`` images (indexes ``start``...) in one transaction.

    As a superuser, with ``session_replication_role = replica`` for that
    transaction: no foreign key triggers. Indexes that back no constraint
    are made again after the COPY (see _drop_plain_indexes).

    :returns: (ids, seconds to seed, seconds to VACUUM ANALYZE, whether the
        foreign key triggers were skipped).
    """
    began = time.perf_counter()
    engine = sa.create_engine(db_url)
    ids = []
    skip_fk_checks = False
    try:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute('SELECT rolsuper FROM pg_roles '
                           'WHERE rolname = current_user')
            skip_fk_checks = bool(cursor.fetchone()[0])
            if skip_fk_checks:
                # The rows reference only images of the same COPY round:
                # PostgreSQL's per-row foreign key triggers would only
                # confirm that, at nearly half the seeding time.
                cursor.execute('SET LOCAL session_replication_role = replica')
            indexes = _drop_plain_indexes(cursor)
            for first in range(start, start + count, _COPY_BATCH):
                batch_ids, tables = _rows(
                    first, min(_COPY_BATCH, start + count - first))
                ids += batch_ids
                for name, text in tables.items():
                    text.seek(0)
                    cursor.copy_expert(_COPY[name], text)
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for definition in indexes:
                cursor.execute(definition)
            raw.commit()
        finally:
            raw.close()
        seeded = time.perf_counter() - began
        began = time.perf_counter()
        with engine.connect().execution_options(
                isolation_level='AUTOCOMMIT') as conn:
            conn.exec_driver_sql('VACUUM ANALYZE')
    finally:
        engine.dispose()
    return (ids, round(seeded, 1), round(time.perf_counter() - began, 1),
            skip_fk_checks)


def latency(nodes, ids, duration):
    """show and list (first page) from each node, one connection."""
    out = {}
    sample = random.Random(1).sample(ids, min(len(ids), 10000))
    for index, node in enumerate(nodes):
        for scenario in ('show', 'list'):
            metadata.run_load(node.host, node.port, scenario, sample, 1, 1.0)
            figures = metadata.run_load(node.host, node.port, scenario,
                                        sample, 1, duration, node.pid)
            out.setdefault('node%d' % (index + 1), {})[scenario] = figures
    return out


def page_pass(nodes, first_node):
    """Every image, PAGE_LIMIT a page, pages alternating between nodes.

    :returns: (page seconds, ids seen, their count with repeats, errors).
    """
    conns = [http.client.HTTPConnection(n.host, n.port, timeout=300)
             for n in nodes[first_node:] + nodes[:first_node]]
    seen = set()
    times, errors, listed = [], [], 0
    path = '/v2/images?limit=%d' % PAGE_LIMIT
    try:
        while path:
            conn = conns[len(times) % len(conns)]
            start = time.perf_counter()
            conn.request('GET', path)
            response = conn.getresponse()
            data = response.read()
            times.append(time.perf_counter() - start)
            if response.status != 200:
                errors.append('%s: %d' % (path, response.status))
                break
            body = json.loads(data)
            listed += len(body['images'])
            seen.update(image['id'] for image in body['images'])
            path = body.get('next')
            if path and not path.startswith('/v2'):
                path = '/v2' + path
    finally:
        for conn in conns:
            conn.close()
    return times, seen, listed, errors


def page_all(nodes, expected, passes=2):
    """``passes`` page_pass runs; each page's time the fastest of them."""
    began = time.perf_counter()
    runs = [page_pass(nodes, index % len(nodes)) for index in range(passes)]
    seconds = time.perf_counter() - began
    times = [min(per_page) for per_page in zip(*(run[0] for run in runs))]
    errors = [error for run in runs for error in run[3]]
    ok = all(len(run[1]) == run[2] == expected for run in runs)
    tenth = max(1, len(times) // 10)

    def median_ms(values):
        return round(statistics.median(values) * 1000, 1) if values else None
    return {
        'pages': len(times), 'passes': passes, 'expected': expected,
        'images': min(len(run[1]) for run in runs),
        'listed_all': ok and not errors, 'errors': errors[:10],
        'seconds_per_pass': round(seconds / passes, 1),
        'page_ms': [round(t * 1000, 1) for t in times],
        'page_ms_by_pass': [[round(t * 1000, 1) for t in run[0]]
                            for run in runs],
        'first_tenth_median_ms': median_ms(times[:tenth]),
        'last_tenth_median_ms': median_ms(times[-tenth:]),
        'pages_per_tenth': tenth,
    }


def measure(args, run_dir, log):
    """The whole --scale step, on a database it makes and drops."""
    out = {'images': args.scale, 'limit': PAGE_LIMIT, 'levels': {}}
    db_url = servers.create_database(args.postgres)
    out['database'] = db_url.rsplit('/', 1)[-1]
    nodes = []
    try:
        out['server_version'] = servers.server_version(db_url)
        for index in (1, 2):
            state = os.path.join(run_dir, 'scale-node%d' % index)
            os.makedirs(state)
            nodes.append(servers.ImageAPIServer(state, args.workers, db_url))
        nodes[0].db_sync()
        ids = []
        for level in sorted({min(SMALL, args.scale), args.scale}):
            new, seconds, vacuum, no_fk = seed(db_url, len(ids),
                                               level - len(ids))
            ids += new
            log('scale: seeded %d images (COPY%s) in %.1f s, VACUUM ANALYZE '
                '%.1f s' % (len(new), ', no FK triggers' if no_fk else '',
                            seconds, vacuum))
            if not nodes[0].process:
                for node in nodes:
                    node.start()
            entry = out['levels'][str(level)] = {
                'seed_seconds': seconds, 'vacuum_analyze_seconds': vacuum,
                'seeded': len(new), 'fk_triggers_skipped': no_fk}
            entry['latency'] = latency(nodes, ids, args.scale_duration)
            for node, scenarios in entry['latency'].items():
                log('scale %d %s: show p50 %s p99 %s ms, list p50 %s p99 %s '
                    'ms' % (level, node, scenarios['show']['p50_ms'],
                            scenarios['show']['p99_ms'],
                            scenarios['list']['p50_ms'],
                            scenarios['list']['p99_ms']))
        log('scale: listing all %d images, %d a page' % (len(ids),
                                                         PAGE_LIMIT))
        out['paging'] = page_all(nodes, len(ids))
        paging = out['paging']
        log('scale: %d pages in %.1f s a pass, first tenth %s ms, last tenth '
            '%s ms' % (paging['pages'], paging['seconds_per_pass'],
                       paging['first_tenth_median_ms'],
                       paging['last_tenth_median_ms']))
    except Exception as exc:
        log('scale failed: %r' % exc)
        out['error'] = repr(exc)
    finally:
        for node in nodes:
            node.stop()
        servers.drop_database(args.postgres, db_url)
    return out
