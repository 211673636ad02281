"""--swift: the Swift store against a real Swift on loopback, beside a plain Swift client.

A one-node Swift (tools/swift/start-swift.sh: tempauth, one proxy process, 1 MiB chunks)
on ports of its own, with Swift's default ``max_file_size`` (5 GiB + 2) so that an image
below ``swift_store_large_object_size`` is one object. Two imageapi-api servers on
SQLite, one with ``[store] driver = swift`` and one with the shipped file store, and
curl as the plain Swift client: for each file, in this order,

1. plain Swift: ``curl -T file -X PUT`` with the tempauth token straight to the proxy
   (one object, Content-Length), then ``curl`` GET of it;
2. imageapi, Swift store: Content-Length upload (the worker RSS sampled during the
   largest), download, then a chunked upload (always a Static Large Object);
3. plain Swift again (the ratios use the mean of 1 and 3);
4. imageapi, file store: Content-Length upload and download.

Each upload is checked (201 and ETag for Swift, 204 + active + md5 for imageapi) and
deleted after it was measured. ``swift_cpu_s_per_gb`` is the CPU time of Swift's
processes (proxy, object, container, account server) per GB moved, from /proc.
"""

import http.client
import os
import subprocess
import urllib.parse

import apiclient
import limit
import servers
import transfer

TOOLS_SWIFT = os.path.join(servers.REPO_ROOT, 'tools', 'swift')
# Swift's own default: a 2 GiB image fits in one object.
MAX_FILE_SIZE = 5 * (1 << 30) + 2
DEFAULT_PORTS = '28080,26200,26201,26202,21213'
_PORT_VARS = ('SWIFT_PROXY_PORT', 'SWIFT_OBJECT_PORT', 'SWIFT_CONTAINER_PORT',
              'SWIFT_ACCOUNT_PORT', 'SWIFT_MEMCACHE_PORT')
_PASSED = ('SWIFT_INSTALL', 'SWIFT_PYTHON', 'SWIFT_START_TIMEOUT')
PLAIN_CONTAINER = 'bench-plain'
IMAGE_CONTAINER = 'bench-imageapi'


class SwiftUnavailable(Exception):
    pass


class SwiftAIO:
    """A throw-away Swift started by start-swift.sh in ``state``."""

    def __init__(self, state, venv, ports):
        self.state = state
        # Only how to install Swift comes from the caller's environment:
        # ports, auth, replicas and the rest are this benchmark's.
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith('SWIFT_') or k in _PASSED}
        self.env.update(SWIFT_STATE_DIR=state,
                        SWIFT_MAX_FILE_SIZE=str(MAX_FILE_SIZE))
        if venv:
            self.env['SWIFT_VENV'] = venv
        self.env.update(zip(_PORT_VARS, ports.split(',')))
        self.exports = {}
        self.token = self.storage_url = None

    def start(self, log):
        os.makedirs(self.state, exist_ok=True)
        done = subprocess.run(
            ['bash', os.path.join(TOOLS_SWIFT, 'start-swift.sh'), self.state],
            env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise SwiftUnavailable('start-swift.sh: %s' % done.stderr[-2000:])
        log(done.stderr.strip().splitlines()[-1])
        for line in done.stdout.splitlines():
            name, _, value = line.replace('export ', '', 1).partition('=')
            self.exports[name] = value
        self.login()
        for container in (PLAIN_CONTAINER, IMAGE_CONTAINER):
            self.request('PUT', self.url(container), expect=(201, 202))

    def stop(self):
        subprocess.run(['bash', os.path.join(TOOLS_SWIFT, 'stop-swift.sh'),
                        self.state], env=self.env, capture_output=True)

    def cpu_seconds(self):
        """utime + stime of Swift's servers (their pid files)."""
        pids = []
        for name in ('proxy', 'object', 'container', 'account'):
            try:
                with open(os.path.join(self.state, 'run',
                                       name + '.pid')) as pid_file:
                    pids.append(int(pid_file.read().split()[0]))
            except (OSError, ValueError, IndexError):
                continue
        return servers.cpu_seconds(pids)

    def version(self):
        log_path = os.path.join(self.state, 'log', 'proxy.log')
        venv = self.env.get('SWIFT_VENV', os.path.join(self.state, 'venv'))
        done = subprocess.run(
            [os.path.join(venv, 'bin', 'python'), '-c',
             'import swift; print(swift.__version__)'],
            capture_output=True, text=True)
        return done.stdout.strip() or 'unknown (see %s)' % log_path

    def login(self):
        """tempauth: token and storage URL of ST_USER."""
        parts = urllib.parse.urlsplit(self.exports['ST_AUTH'])
        conn = http.client.HTTPConnection(parts.netloc, timeout=30)
        try:
            conn.request('GET', parts.path, headers={
                'X-Auth-User': self.exports['ST_USER'],
                'X-Auth-Key': self.exports['ST_KEY']})
            response = conn.getresponse()
            response.read()
            self.token = response.getheader('X-Auth-Token')
            self.storage_url = response.getheader('X-Storage-Url')
        finally:
            conn.close()
        if not self.token:
            raise SwiftUnavailable('tempauth login: %d' % response.status)

    def url(self, container, name=None):
        return '%s/%s%s' % (self.storage_url, container,
                            '/' + name if name else '')

    def request(self, method, url, expect=(200, 201, 202, 204)):
        """One small request with the token: (status, headers dict)."""
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.netloc, timeout=60)
        try:
            conn.request(method, parts.path,
                         headers={'X-Auth-Token': self.token})
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        if response.status not in expect:
            raise SwiftUnavailable('%s %s: %d' % (method, url,
                                                  response.status))
        return response.status, {k.lower(): v for k, v
                                 in response.getheaders()}

    def imageapi_env(self):
        """OS_* settings of imageapi-api's Swift store on this Swift."""
        options = {'driver': ('STORE', 'swift'),
                   'auth_version': ('SWIFT_STORE', '1'),
                   'auth_address': ('SWIFT_STORE', self.exports['ST_AUTH']),
                   'user': ('SWIFT_STORE', self.exports['ST_USER']),
                   'key': ('SWIFT_STORE', self.exports['ST_KEY']),
                   'container': ('SWIFT_STORE', IMAGE_CONTAINER)}
        env = {}
        for name, (group, value) in options.items():
            option = name if group == 'STORE' else 'swift_store_' + name
            env['OS_%s__%s' % (group, option.upper())] = value
        return env


def plain_upload(swift, path, md5, name):
    """curl PUT of ``path`` as one object; checked by the ETag."""
    url = swift.url(PLAIN_CONTAINER, name)
    limit.warm(path)
    code, seconds, sent = limit.curl_upload(
        url, path, headers=['X-Auth-Token: ' + swift.token])
    _status, headers = swift.request('HEAD', url)
    ok = (code == 201 and headers.get('etag', '').strip('"') == md5
          and int(headers.get('content-length', -1)) == sent)
    return url, {'http_code': code, 'seconds': round(seconds, 3),
                 'mbps': transfer.mbps(sent, seconds), 'ok': ok}


def plain_download(swift, url, size):
    code, seconds, got = limit.curl_download(
        url, headers=['X-Auth-Token: ' + swift.token])
    return {'http_code': code, 'seconds': round(seconds, 3),
            'mbps': transfer.mbps(got, seconds),
            'ok': code == 200 and got == size}


def _swift_cpu(swift, run, before, size):
    """Swift's CPU seconds per GB since ``before``, into ``run``."""
    after = swift.cpu_seconds()
    run['swift_cpu_s_per_gb'] = round((after - before) / (size / 1e9), 3)
    return after


def _plain(swift, path, md5, label, size):
    transfer.settle()
    cpu = swift.cpu_seconds()
    url, up = plain_upload(swift, path, md5, 'plain-%s' % label)
    cpu = _swift_cpu(swift, up, cpu, size)
    down = plain_download(swift, url, size)
    _swift_cpu(swift, down, cpu, size)
    swift.request('DELETE', url, expect=(204, 404))
    return up, down


def _imageapi(server, client, path, md5, label, watch_rss, swift=None):
    """Upload (Content-Length), download; with ``swift`` also chunked."""
    out = {}
    size = os.path.getsize(path)
    transfer.settle()
    cpu = swift.cpu_seconds() if swift else None
    if watch_rss:
        with transfer.RSSSampler(server.pid) as sampler:
            image_id, out['upload_content_length'] = transfer.upload(
                client, path, False, md5, label, server.pid)
        out['rss'] = sampler.result()
    else:
        image_id, out['upload_content_length'] = transfer.upload(
            client, path, False, md5, label, server.pid)
    if swift:
        cpu = _swift_cpu(swift, out['upload_content_length'], cpu, size)
        out['upload_content_length']['slo'] = _is_slo(swift, image_id)
        cpu = swift.cpu_seconds()
    out['download'] = transfer.download(client, image_id, size, server.pid)
    if swift:
        _swift_cpu(swift, out['download'], cpu, size)
    client.delete_image(image_id)
    if swift:
        transfer.settle()
        cpu = swift.cpu_seconds()
        image_id, out['upload_chunked'] = transfer.upload(
            client, path, True, md5, label, server.pid)
        _swift_cpu(swift, out['upload_chunked'], cpu, size)
        out['upload_chunked']['slo'] = _is_slo(swift, image_id)
        client.delete_image(image_id)
    return out


def _is_slo(swift, image_id):
    _status, headers = swift.request(
        'HEAD', swift.url(IMAGE_CONTAINER, image_id), expect=(200, 404))
    return headers.get('x-static-large-object', '').lower() == 'true'


def measure(args, run_dir, files, md5s, log):
    """The whole --swift step; ``files`` and ``md5s`` by size label."""
    largest = max(files, key=lambda label: os.path.getsize(files[label]))
    swift = SwiftAIO(os.path.join(run_dir, 'swift'), args.swift_venv,
                     args.swift_ports)
    out = {'ports': args.swift_ports, 'max_file_size': MAX_FILE_SIZE,
           'transfer': {}}
    started = []
    try:
        swift.start(log)
        out['swift_version'] = swift.version()
        for name, env in (('swift', swift.imageapi_env()), ('file', {})):
            state = os.path.join(run_dir, 'swift-bench-' + name)
            os.makedirs(state)
            server = servers.ImageAPIServer(state, args.workers, env=env)
            server.start()
            started.append(server)
        (swift_server, file_server) = started
        clients = [apiclient.APIClient(s.host, s.port) for s in started]
        for label, path in files.items():
            size = os.path.getsize(path)
            entry = out['transfer'][label] = {}
            first = _plain(swift, path, md5s[label], label, size)
            entry['imageapi_swift'] = _imageapi(
                swift_server, clients[0], path, md5s[label],
                'bench-swift-%s' % label, label == largest, swift)
            second = _plain(swift, path, md5s[label], label, size)
            entry['plain_swift'] = {'upload': [first[0], second[0]],
                                    'download': [first[1], second[1]]}
            entry['imageapi_file'] = _imageapi(
                file_server, clients[1], path, md5s[label],
                'bench-file-%s' % label, False)
            log('swift %s: plain up %s/%s down %s/%s; imageapi swift up %s '
                '(chunked %s) down %s; file up %s down %s MB/s' % (
                    label, first[0]['mbps'], second[0]['mbps'],
                    first[1]['mbps'], second[1]['mbps'],
                    entry['imageapi_swift']['upload_content_length']['mbps'],
                    entry['imageapi_swift']['upload_chunked']['mbps'],
                    entry['imageapi_swift']['download']['mbps'],
                    entry['imageapi_file']['upload_content_length']['mbps'],
                    entry['imageapi_file']['download']['mbps']))
    except Exception as exc:
        log('swift failed: %r' % exc)
        out['error'] = repr(exc)
    finally:
        for server in started:
            server.stop()
        swift.stop()
    return out
