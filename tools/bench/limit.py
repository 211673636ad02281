"""Step 1, the limit: what this machine can do with one file, measured in process.

The copy pipelines read the test file in large chunks, hash it (md5 and sha512, as an
upload does) and write it to the same filesystem with the store's fsync policy; the
sendfile baselines move it to a loopback socket without Python touching the bytes.
Every figure here is what an upload or a download of the service is divided by.
"""

import contextlib
import hashlib
import http.server
import os
import queue
import socket
import subprocess
import threading
import time
import uuid

MB = 1000 * 1000
MIB = 1024 * 1024
_GEN_CHUNK = 4 * MIB


def make_test_file(path, size):
    """Write ``size`` random bytes to ``path`` and fsync it; returns seconds."""
    start = time.perf_counter()
    with open(path, 'wb', buffering=0) as out:
        left = size
        while left:
            block = os.urandom(min(_GEN_CHUNK, left))
            out.write(block)
            left -= len(block)
        os.fsync(out.fileno())
    return time.perf_counter() - start


def warm(path):
    """Read ``path`` once so that every measurement starts from page cache."""
    with open(path, 'rb', buffering=0) as src:
        while src.read(8 * MIB):
            pass


def _mbps(size, seconds):
    return round(size / MB / seconds, 1) if seconds > 0 else None


class _Writer:
    """The store's write policy: fdatasync every ``sync_interval``, fsync last."""

    def __init__(self, directory, fsync, sync_interval):
        self.directory = directory
        self.path = os.path.join(directory, 'limit.%s' % uuid.uuid4().hex)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                          0o600)
        self.fsync = fsync
        self.sync_interval = sync_interval if fsync else 0
        self.unsynced = 0

    def write(self, chunk):
        view = memoryview(chunk)
        self.unsynced += len(view)
        while view:
            view = view[os.write(self.fd, view):]
        if self.sync_interval and self.unsynced >= self.sync_interval:
            os.fdatasync(self.fd)
            self.unsynced = 0

    def close(self):
        if self.fsync:
            os.fsync(self.fd)
        os.close(self.fd)
        if self.fsync:
            dir_fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        os.unlink(self.path)


def _hasher_thread(hash_obj, chunks):
    def run():
        while True:
            chunk = chunks.get()
            if chunk is None:
                return
            hash_obj.update(chunk)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def copy(src_path, directory, chunk_size, hashing, fsync, sync_interval,
         write=True):
    """Read ``src_path`` in ``chunk_size`` pieces, hash, write; time it all.

    :param hashing: 'none', 'serial' (md5 then sha512 in this thread) or
        'parallel' (one thread per hash, fed the same chunk objects through
        short queues while this thread writes).
    :returns: dict with seconds, mbps and the hex digests (when hashed).
    """
    md5 = hashlib.md5(usedforsecurity=False)
    sha512 = hashlib.sha512()
    queues, threads = [], []
    if hashing == 'parallel':
        for hash_obj in (md5, sha512):
            queues.append(queue.Queue(maxsize=8))
            threads.append(_hasher_thread(hash_obj, queues[-1]))
    size = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    writer = _Writer(directory, fsync, sync_interval) if write else None
    for chunk in _chunks(src_path, chunk_size):
        size += len(chunk)
        if hashing == 'serial':
            md5.update(chunk)
            sha512.update(chunk)
        for chunks in queues:
            chunks.put(chunk)
        if writer is not None:
            writer.write(chunk)
    for chunks in queues:
        chunks.put(None)
    for thread in threads:
        thread.join()
    if writer is not None:
        writer.close()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    result = {'seconds': round(seconds, 3), 'mbps': _mbps(size, seconds),
              'cpu_s_per_gb': round(cpu / (size / 1e9), 3)}
    if hashing != 'none':
        result.update(md5=md5.hexdigest(), sha512=sha512.hexdigest())
    return result


def hash_only(src_path, algo, chunk_size=MIB):
    """MB/s of one hash over the (cached) file, no write."""
    hash_obj = hashlib.new(algo)
    size = 0
    start = time.perf_counter()
    for chunk in _chunks(src_path, chunk_size):
        size += len(chunk)
        hash_obj.update(chunk)
    return _mbps(size, time.perf_counter() - start)


def _chunks(src_path, chunk_size):
    """The (cached) file in pieces of ``chunk_size``, unbuffered."""
    with open(src_path, 'rb', buffering=0) as src:
        while True:
            chunk = src.read(chunk_size)
            if not chunk:
                return
            yield chunk


def sendfile_socket(src_path):
    """MB/s of os.sendfile to a loopback TCP socket drained by a thread."""
    size = os.path.getsize(src_path)
    listener = socket.create_server(('127.0.0.1', 0))
    done = {}

    def drain():
        conn, _addr = listener.accept()
        buf = bytearray(MIB)
        with conn:
            while conn.recv_into(buf):
                pass
        done['end'] = time.perf_counter()

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    with socket.create_connection(listener.getsockname()) as conn, \
            open(src_path, 'rb') as src:
        start = time.perf_counter()
        conn.sendfile(src)
    thread.join()
    listener.close()
    return _mbps(size, done['end'] - start)


class _FileHandler(http.server.BaseHTTPRequestHandler):
    """GET sends the file with sendfile; PUT reads and drops the body.

    PUT to ``/durable`` is the durable receiver instead: what an upload must
    do at the least, with the store's durability and no service around it.
    """

    protocol_version = 'HTTP/1.1'
    path_to_serve = None
    durable_dir = None
    sync_interval = 64 * MIB

    def do_GET(self):
        size = os.path.getsize(self.path_to_serve)
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(size))
        self.end_headers()
        self.wfile.flush()
        with open(self.path_to_serve, 'rb') as src:
            self.connection.sendfile(src)

    def do_PUT(self):
        left = int(self.headers['Content-Length'])
        if self.path == '/durable':
            self._receive_durably(left)
            return
        buf = bytearray(MIB)
        view = memoryview(buf)
        while left:
            got = self.rfile.readinto(view[:min(left, MIB)])
            if not got:
                break
            left -= got
        self.send_response(204)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def _receive_durably(self, left):
        """Receive the body as an upload must, with nothing around it.

        md5 and the write on this thread, sha512 on a second one, into a new
        buffer per 1 MiB chunk; fdatasync every sync_interval, fsync of the
        file and its directory at the end.
        """
        writer = _Writer(self.durable_dir, True, self.sync_interval)
        md5 = hashlib.md5(usedforsecurity=False)
        chunks = queue.Queue(maxsize=8)
        thread = _hasher_thread(hashlib.sha512(), chunks)
        while left:
            buf = bytearray(min(left, MIB))
            got = self.rfile.readinto(buf)
            if not got:
                break
            chunk = memoryview(buf)[:got]
            md5.update(chunk)
            chunks.put(chunk)
            writer.write(chunk)
            left -= got
        chunks.put(None)
        thread.join()
        writer.close()
        self.send_response(204 if not left else 400)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def file_server(src_path, durable_dir=None, sync_interval=64 * MIB):
    """A throwaway HTTP server on 127.0.0.1 for the curl baselines."""
    handler = type('Handler', (_FileHandler,), {
        'path_to_serve': src_path, 'durable_dir': durable_dir,
        'sync_interval': sync_interval})
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d/file' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def durable_receiver(src_path, directory, sync_interval):
    """MB/s of curl -T to the durable receiver (see _FileHandler)."""
    with file_server(src_path, directory, sync_interval) as url:
        warm(src_path)
        code, seconds, sent = curl_upload(url.replace('/file', '/durable'),
                                          src_path)
    return _mbps(sent, seconds) if code == 204 else None


def curl_download(url, headers=()):
    """curl -o /dev/null: (http_code, seconds, bytes)."""
    argv = ['curl', '-sS', '-o', '/dev/null', '-w',
            '%{http_code} %{time_total} %{size_download}']
    for header in headers:
        argv += ['-H', header]
    out = subprocess.run(argv + [url], check=True, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def curl_upload(url, path, chunked=False, headers=()):
    """curl -T (streams the file; Content-Length unless chunked).

    ``--data-binary @file`` is not used: curl reads that whole file into
    its own memory before sending. ``Expect:`` is sent empty so that no
    100-continue round trip is timed (python-glanceclient sends none).
    :returns: (http_code, seconds, bytes sent).
    """
    argv = ['curl', '-sS', '-o', '/dev/null', '-X', 'PUT', '-T', path,
            '-H', 'Content-Type: application/octet-stream', '-H', 'Expect:',
            '-w', '%{http_code} %{time_total} %{size_upload}']
    if chunked:
        argv += ['-H', 'Transfer-Encoding: chunked']
    for header in headers:
        argv += ['-H', header]
    out = subprocess.run(argv + [url], check=True, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def measure(src_path, directory, fsync, sync_interval, store_chunk_size,
            log):
    """All step-1 figures for one test file; MB/s, MB = 10**6 bytes."""
    size = os.path.getsize(src_path)
    os.makedirs(directory, exist_ok=True)
    result = {'bytes': size, 'chunk_size': MIB, 'fsync': fsync,
              'sync_interval': sync_interval}
    warm(src_path)
    result['md5_only'] = hash_only(src_path, 'md5')
    result['sha512_only'] = hash_only(src_path, 'sha512')
    runs = (('plain_copy', MIB, 'none'),
            ('serial', MIB, 'serial'),
            ('parallel', MIB, 'parallel'),
            ('serial_store_chunk', store_chunk_size, 'serial'))
    for name, chunk_size, hashing in runs:
        warm(src_path)
        run = copy(src_path, directory, chunk_size, hashing, fsync,
                   sync_interval)
        result[name] = run['mbps']
        result[name + '_cpu_s_per_gb'] = run['cpu_s_per_gb']
        if 'md5' in run:
            result['md5'], result['sha512'] = run['md5'], run['sha512']
        log('limit %s: %s MB/s' % (name, run['mbps']))
    warm(src_path)
    result['sendfile_socket'] = sendfile_socket(src_path)
    with file_server(src_path, directory, sync_interval) as url:
        warm(src_path)
        code, seconds, got = curl_download(url)
        result['sendfile_curl'] = _mbps(got, seconds) if code == 200 else None
        warm(src_path)
        code, seconds, sent = curl_upload(url, src_path)
        result['curl_upload_sink'] = (_mbps(sent, seconds) if code == 204
                                      else None)
    result['durable_receiver'] = durable_receiver(src_path, directory,
                                                  sync_interval)
    log('limit sendfile socket %s, curl download %s, curl upload to a '
        'sink %s, to a durable receiver %s MB/s'
        % (result['sendfile_socket'], result['sendfile_curl'],
           result['curl_upload_sink'], result['durable_receiver']))
    return result
