#!/usr/bin/env python3
"""imageapi benchmark: the machine's limit, the service, and optionally Glance, in one run.

Usage: /work/venv/bin/python tools/bench/run.py [--quick] [--sizes 1G,4G]
    [--images 1000,10000] [--backends sqlite,postgresql] [--postgres URL] [--glance]
    [--profile] [--out result.json]

Prints one JSON document (stdout, or --out) and a short table (stderr, or stdout with
--out). See README.md beside this file for what each figure is.
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import apiclient
import cache_transfer
import glance_ref
import limit
import metadata
import pyspy
import report
import scale
import servers
import swift_transfer
import transfer

DEFAULT_POSTGRES = 'postgresql+psycopg2://postgres@127.0.0.1/postgres'
_UNITS = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}


def parse_size(text):
    text = text.strip().upper().rstrip('IB')
    if text[-1:] in _UNITS:
        return int(float(text[:-1]) * _UNITS[text[-1]])
    return int(text)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='256M, 200 images, 2 s per metadata test.')
    parser.add_argument('--sizes', help='Single-stream sizes (default 1G,4G).')
    parser.add_argument('--concurrent-size',
                        help='Size of each of the 4 concurrent uploads '
                             '(default 256M; 64M with --quick).')
    parser.add_argument('--images', help='Image counts (default 1000,10000).')
    parser.add_argument('--duration', type=float,
                        help='Seconds per metadata test (default 5).')
    parser.add_argument('--connections', default='1,8')
    parser.add_argument('--backends', default='sqlite,postgresql')
    parser.add_argument('--postgres', default=DEFAULT_POSTGRES,
                        help='Admin URL of a PostgreSQL server; a fresh '
                             'bench_<random> database is made and dropped.')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--glance', action='store_true',
                        help='Also measure Glance from PyPI, side by side.')
    parser.add_argument('--glance-version',
                        default=glance_ref.DEFAULT_VERSION)
    parser.add_argument('--glance-venv',
                        default='/tmp/imageapi-bench-glance/venv')
    parser.add_argument('--profile', action='store_true',
                        help='py-spy the workers during one more upload, '
                             'list and create run; top frames in the JSON.')
    parser.add_argument('--swift', action='store_true',
                        help='Also measure the Swift store against a real '
                             'Swift on loopback, beside a plain Swift client '
                             'and the file store.')
    parser.add_argument('--swift-sizes',
                        help='Sizes for --swift (default 2G; 256M with '
                             '--quick); the largest is watched for RSS.')
    parser.add_argument('--swift-venv', default=os.environ.get(
                        'SWIFT_VENV', '/tmp/imageapi-bench-swift/venv'),
                        help='Venv with Swift (start-swift.sh installs '
                             'Swift from PyPI into it when missing).')
    parser.add_argument('--swift-ports', default=swift_transfer.DEFAULT_PORTS,
                        help='Swift proxy, object, container, account and '
                             'memcached ports.')
    parser.add_argument('--cache', action='store_true',
                        help='Also measure the image cache: download from '
                             'Swift cold and warm, beside a plain sendfile '
                             'of the cached file (uses the Swift options).')
    parser.add_argument('--cache-size',
                        help='Image size for --cache (default 1G; 256M '
                             'with --quick).')
    parser.add_argument('--cache-rounds', type=int,
                        default=cache_transfer.ROUNDS,
                        help='Warm downloads for --cache, each beside a '
                             'plain sendfile; medians are reported.')
    parser.add_argument('--scale', type=int, default=0,
                        help='Seed this many images into PostgreSQL in bulk '
                             'and measure two API nodes on it (off: 0).')
    parser.add_argument('--scale-duration', type=float,
                        help='Seconds per latency test of --scale '
                             '(default 5; 2 with --quick).')
    parser.add_argument('--skip-transfer', action='store_true')
    parser.add_argument('--skip-metadata', action='store_true')
    parser.add_argument('--workdir', default=tempfile.gettempdir(),
                        help='Parent of the run directory (test files, '
                             'state dirs); it must have room for them.')
    parser.add_argument('--keep', action='store_true',
                        help='Keep the run directory.')
    parser.add_argument('--out', help='Write the JSON here.')
    args = parser.parse_args(argv)
    args.sizes = args.sizes or ('256M' if args.quick else '1G,4G')
    args.concurrent_size = args.concurrent_size or (
        '64M' if args.quick else '256M')
    args.images = args.images or ('200' if args.quick else '1000,10000')
    args.duration = args.duration or (2.0 if args.quick else 5.0)
    args.swift_sizes = args.swift_sizes or ('256M' if args.quick else '2G')
    args.swift_labels = [s.strip() for s in args.swift_sizes.split(',')
                         if s.strip()] if args.swift else []
    args.cache_size = args.cache_size or ('256M' if args.quick else '1G')
    args.scale_duration = args.scale_duration or args.duration
    args.size_labels = [s.strip() for s in args.sizes.split(',') if s.strip()]
    args.image_levels = [int(n) for n in args.images.split(',')]
    args.connection_list = [int(n) for n in args.connections.split(',')]
    args.backend_list = [b.strip() for b in args.backends.split(',')
                         if b.strip() not in ('', 'none')]
    return args


def log(message):
    sys.stderr.write('[%s] %s\n' % (time.strftime('%H:%M:%S'), message))
    sys.stderr.flush()


def loadavg():
    with open('/proc/loadavg') as f:
        return [float(x) for x in f.read().split()[:3]]


def store_policy():
    """[filesystem_store] fsync, sync_interval and [store] chunk_size defaults."""
    # This checkout's defaults, whatever tree the venv installed.
    sys.path.insert(0, servers.REPO_ROOT)
    from imageapi.common import config
    conf = config.new_conf()
    conf([], project='imageapi', default_config_files=[],
         default_config_dirs=[])
    return (conf.filesystem_store.fsync, conf.filesystem_store.sync_interval,
            conf.store.chunk_size)


def meta(args):
    rev = subprocess.run(['git', '-C', servers.REPO_ROOT, 'rev-parse',
                          'HEAD'], capture_output=True, text=True).stdout
    dirty = subprocess.run(['git', '-C', servers.REPO_ROOT, 'status',
                            '--porcelain', '--untracked-files=no'],
                           capture_output=True, text=True).stdout
    return {'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
            'host': platform.node(), 'kernel': platform.release(),
            'cpus': os.cpu_count(), 'python': platform.python_version(),
            'imageapi_commit': rev.strip(), 'tree_modified': bool(dirty),
            'loadavg_start': loadavg(),
            'mb': '10**6 bytes; sizes (256M, 1G, 4G) are binary',
            'args': {k: v for k, v in vars(args).items()
                     if not k.endswith(('_list', '_labels'))}}


class Run:
    """One benchmark run: its temp directory, test files and results."""

    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix='imageapi-bench-',
                                    dir=args.workdir)
        self.fsync, self.sync_interval, self.store_chunk = store_policy()
        self.files = {}
        self._md5s = {}
        self._ids = []
        self.result = {'meta': meta(args), 'limit': {}, 'backends': {}}

    def make_files(self):
        data = os.path.join(self.dir, 'data')
        os.makedirs(data)
        labels = []
        if not self.args.skip_transfer:
            labels += self.args.size_labels + [self.args.concurrent_size]
        labels += self.args.swift_labels
        if self.args.cache:
            labels.append(self.args.cache_size)
        for label in dict.fromkeys(labels):
            path = os.path.join(data, 'test-%s.bin' % label)
            seconds = limit.make_test_file(path, parse_size(label))
            log('test file %s written in %.1f s' % (label, seconds))
            self.files[label] = path

    def measure_limits(self):
        for label in dict.fromkeys(self.args.size_labels
                                   + [self.args.concurrent_size]):
            if label not in self.files:
                continue
            log('limit for %s' % label)
            self.result['limit'][label] = limit.measure(
                self.files[label], os.path.join(self.dir, 'limit'),
                self.fsync, self.sync_interval, self.store_chunk, log)
        self.result['limit_loadavg_end'] = loadavg()

    def md5(self, label):
        """The file's md5, from the limit run or read once more."""
        known = self.result['limit'].get(label, {}).get('md5')
        if known or label in self._md5s:
            return known or self._md5s[label]
        digest = hashlib.md5(usedforsecurity=False)
        with open(self.files[label], 'rb') as data:
            for block in iter(lambda: data.read(limit.MIB), b''):
                digest.update(block)
        self._md5s[label] = digest.hexdigest()
        return self._md5s[label]

    # ------------------------------------------------------------ imageapi
    def run_backend(self, name):
        args = self.args
        state = os.path.join(self.dir, name)
        os.makedirs(state)
        db_url = None
        out = {'loadavg_start': loadavg()}
        if name == 'postgresql':
            db_url = servers.create_database(args.postgres)
            out['database'] = db_url.rsplit('/', 1)[-1]
            out['server_version'] = servers.server_version(db_url)
        server = servers.ImageAPIServer(state, args.workers, db_url)
        try:
            if db_url:
                server.db_sync()
            server.start()
            log('%s: imageapi-api on http://%s:%d, workers %s' % (
                name, server.host, server.port, server.worker_pids()))
            client = apiclient.APIClient(server.host, server.port)
            if not args.skip_transfer:
                self._transfer(name, server, client, state, out)
            if not args.skip_metadata:
                self._metadata(name, server, client, out)
            if args.profile:
                out['profile'] = self._profile(server, client, state, out)
            out['loadavg_end'] = loadavg()
        finally:
            server.stop()
            if db_url:
                servers.drop_database(args.postgres, db_url)
        return out

    def _transfer(self, name, server, client, state, out):
        largest = max(self.args.size_labels, key=parse_size)
        out['transfer'] = {}
        for label in self.args.size_labels:
            baselines = transfer.Baselines(
                self.files[label], os.path.join(state, 'limit'), self.fsync,
                self.sync_interval)
            entry = transfer.single_stream(
                client, self.files[label], self.md5(label),
                'bench-%s' % label, server.pid, baselines,
                watch_rss=label == largest)
            out['transfer'][label] = entry
            log('%s %s: upload CL %s (limit %s), chunked %s (limit %s), '
                'download %s (sendfile %s) MB/s' % (
                    name, label, entry['upload_content_length']['mbps'],
                    entry['upload_content_length']['limit_parallel_bracket'],
                    entry['upload_chunked']['mbps'],
                    entry['upload_chunked']['limit_parallel_bracket'],
                    entry['download']['mbps'],
                    entry['download']['sendfile_curl_bracket']))
        label = self.args.concurrent_size
        out['concurrent'] = transfer.concurrent(
            client, self.files[label], self.md5(label))
        out['concurrent']['size'] = label
        log('%s concurrent 4x%s: %s MB/s, %d errors' % (
            name, label, out['concurrent']['aggregate_mbps'],
            out['concurrent']['errors']))

    def _metadata(self, name, server, client, out, seed=None, db_url=None):
        out['metadata'] = {}
        out['images_at_level'] = {}
        ids = []
        seed = seed or self._seed_imageapi(server)
        db_url = db_url or server.db_url
        for level in self.args.image_levels:
            present = len(client.list_ids())
            if level > present:
                start = time.perf_counter()
                ids += seed(len(ids), level - present)
                servers.analyze(db_url)
                log('%s: seeded %d images in %.1f s, analyzed' % (
                    name, level - present, time.perf_counter() - start))
            elif not ids:
                ids = client.list_ids()
            out['images_at_level'][str(level)] = len(client.list_ids())
            log('%s: metadata at %d images' % (name, level))
            out['metadata'][str(level)] = metadata.run_suite(
                server.host, server.port, ids, self.args.connection_list,
                self.args.duration, server.pid, log)
        self._ids = ids

    def _seed_imageapi(self, server):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              'seed_imageapi.py')

        def seed(start, count):
            done = subprocess.run(
                [sys.executable, script, server.config_file, str(start),
                 str(count)], env=server.environ(), cwd=server.state_path,
                capture_output=True, text=True, check=True)
            return done.stdout.split()
        return seed

    def _profile(self, server, client, state, out):
        """py-spy during one more upload, download, list, show and create.

        None of these runs is a measurement: sampling slows the server.
        """
        profiles = {}
        label = self.args.size_labels[0]
        recorder = pyspy.Recorder(server.pid, os.path.join(
            state, 'pyspy-upload.txt'))
        time.sleep(1)
        _id, run = transfer.upload(client, self.files[label], False,
                                   self.md5(label), 'bench-profile')
        profiles['upload_%s' % label] = dict(recorder.stop(), run=run)
        recorder = pyspy.Recorder(server.pid, os.path.join(
            state, 'pyspy-download.txt'))
        time.sleep(1)
        run = transfer.download(client, _id, os.path.getsize(
            self.files[label]))
        profiles['download_%s' % label] = dict(recorder.stop(), run=run)
        client.delete_image(_id)
        ids = self._ids or client.list_ids()
        for scenario in ('list', 'show', 'create'):
            for gil in (False, True):
                key = scenario + ('_gil' if gil else '')
                recorder = pyspy.Recorder(server.pid, os.path.join(
                    state, 'pyspy-%s.txt' % key), gil=gil)
                time.sleep(1)
                run = metadata.run_load(server.host, server.port, scenario,
                                        ids, max(self.args.connection_list),
                                        self.args.duration)
                profiles[key] = dict(recorder.stop(), run={
                    k: run[k] for k in ('rps', 'p50_ms', 'p99_ms')})
        profiles['app_in_process'] = self._sqlcount(server, ids)
        return profiles

    def _sqlcount(self, server, ids):
        """sqlcount.py: the app alone, per request (see its docstring)."""
        ids_file = os.path.join(server.state_path, 'ids.txt')
        with open(ids_file, 'w') as out:
            out.write('\n'.join(ids))
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              'sqlcount.py')
        done = subprocess.run(
            [sys.executable, script, server.config_file, ids_file, '200'],
            env=server.environ(), cwd=server.state_path, capture_output=True,
            text=True)
        if done.returncode:
            return {'error': done.stderr[-1500:]}
        return json.loads(done.stdout)

    # ------------------------------------------------------------ Glance
    def run_glance(self):
        args = self.args
        try:
            version = glance_ref.ensure_venv(
                args.glance_venv, args.glance_version, log)
            work = os.path.join(self.dir, 'glance')
            os.makedirs(work)
            server, conf = glance_ref.start(
                args.glance_venv, work, args.workers, log)
        except glance_ref.GlanceUnavailable as exc:
            log('glance skipped: %s' % exc)
            return {'skipped': str(exc)}
        out = {'version': version, 'server': 'gunicorn gthread, %d workers, '
               '8 threads (as imageapi-api)' % args.workers,
               'loadavg_start': loadavg()}
        try:
            client = apiclient.APIClient(server.host, server.port)
            if not args.skip_transfer:
                self._glance_transfer(server, client, out)
            if not args.skip_metadata:
                self._metadata('glance', server, client, out, seed=(
                    lambda start, count: glance_ref.seed(
                        args.glance_venv, conf, start, count)),
                    db_url='sqlite:///' + os.path.join(work, 'glance.sqlite'))
            out['loadavg_end'] = loadavg()
        except Exception as exc:
            log('glance run failed: %r' % exc)
            out['error'] = repr(exc)
        finally:
            server.stop()
        return out

    def _glance_transfer(self, server, client, out):
        label = min(self.args.size_labels, key=parse_size)
        baselines = transfer.Baselines(
            self.files[label], os.path.join(self.dir, 'glance', 'limit'),
            self.fsync, self.sync_interval)
        out['transfer'] = {label: transfer.single_stream(
            client, self.files[label], self.md5(label), 'bench-%s' % label,
            server.pid, baselines, watch_rss=True,
            modes=('content_length',))}
        entry = out['transfer'][label]
        log('glance %s: upload %s (limit %s), download %s MB/s' % (
            label, entry['upload_content_length']['mbps'],
            entry['upload_content_length']['limit_parallel_bracket'],
            entry['download']['mbps']))

    # ------------------------------------------------------------ all
    def execute(self):
        args = self.args
        if not args.skip_transfer or args.swift or args.cache:
            self.make_files()
        if not args.skip_transfer:
            self.measure_limits()
        for name in args.backend_list:
            try:
                self.result['backends'][name] = self.run_backend(name)
            except Exception as exc:
                log('%s failed: %r' % (name, exc))
                self.result['backends'][name] = {'error': repr(exc)}
        if args.glance:
            self.result['glance'] = self.run_glance()
        if args.swift:
            log('swift: plain Swift client, imageapi Swift store, file store')
            files = {label: self.files[label] for label in args.swift_labels}
            self.result['swift'] = swift_transfer.measure(
                args, self.dir, files,
                {label: self.md5(label) for label in files}, log)
        if args.cache:
            log('cache: Swift cold, cache warm, plain sendfile')
            label = args.cache_size
            self.result['cache'] = cache_transfer.measure(
                args, self.dir, self.files[label], self.md5(label), log)
        if args.scale:
            try:
                self.result['scale'] = scale.measure(args, self.dir, log)
            except Exception as exc:
                log('scale failed: %r' % exc)
                self.result['scale'] = {'error': repr(exc)}
        self.result['meta']['loadavg_end'] = loadavg()
        self.result['meta']['finished'] = time.strftime('%Y-%m-%dT%H:%M:%S%z')
        report.evaluate(self.result)
        return self.result

    def cleanup(self):
        if self.args.keep:
            log('run directory kept: %s' % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    for tool in ('curl',):
        if shutil.which(tool) is None:
            sys.exit('%s is required' % tool)
    run = Run(args)
    log('run directory %s' % run.dir)
    try:
        result = run.execute()
    finally:
        run.cleanup()
    document = json.dumps(result, indent=2, sort_keys=False)
    if args.out:
        with open(args.out, 'w') as out:
            out.write(document + '\n')
        print(report.table(result))
    else:
        print(document)
        sys.stderr.write(report.table(result) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
