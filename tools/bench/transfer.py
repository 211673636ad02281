"""Step 2: image data through the real server with curl, and the server's memory.

Single-stream uploads (Content-Length and chunked) and downloads of each test file,
four concurrent uploads, and the peak RSS of the arbiter and each worker, sampled from
/proc every 50 ms during the largest upload.
"""

import os
import subprocess
import threading
import time

import limit
import servers

MIB = 1024 * 1024


def _status_kib(pid, key):
    try:
        with open('/proc/%d/status' % pid) as status:
            for line in status:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RSSSampler:
    """Samples VmRSS of the arbiter and its workers every ``interval``."""

    def __init__(self, arbiter_pid, interval=0.05):
        self.arbiter = arbiter_pid
        self.interval = interval
        self.peak = {}
        self.peak_total = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            total = 0
            for pid in [self.arbiter] + servers.proc_children(self.arbiter):
                rss = _status_kib(pid, 'VmRSS')
                if rss is None:
                    continue
                total += rss
                self.peak[pid] = max(self.peak.get(pid, 0), rss)
            self.peak_total = max(self.peak_total, total)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self.before = self._snapshot('VmRSS')
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _snapshot(self, key):
        pids = [self.arbiter] + servers.proc_children(self.arbiter)
        return {pid: _status_kib(pid, key) for pid in pids}

    def result(self):
        """MiB figures; VmHWM is each process's peak since it started."""
        hwm = self._snapshot('VmHWM')
        workers = [pid for pid in self.peak if pid != self.arbiter]

        def mib(kib):
            return round(kib / 1024, 1) if kib is not None else None
        return {
            'samples': self.samples,
            'arbiter_peak_mib': mib(self.peak.get(self.arbiter)),
            'worker_peak_mib': {str(p): mib(self.peak[p]) for p in workers},
            'worker_before_mib': {str(p): mib(self.before.get(p))
                                  for p in workers},
            'max_worker_peak_mib': mib(max(
                (self.peak[p] for p in workers), default=None)),
            'total_peak_mib': mib(self.peak_total),
            'vmhwm_mib': {str(p): mib(v) for p, v in hwm.items()},
        }


def mbps(size, seconds):
    return round(size / limit.MB / seconds, 1) if seconds > 0 else None


def _server_cpu(server_pid):
    if not server_pid:
        return 0.0
    return servers.cpu_seconds([server_pid]
                               + servers.proc_children(server_pid))


def _cpu_per_gb(cpu, size):
    return round(cpu / (size / 1e9), 3) if cpu else None


def upload(client, path, chunked, expected_md5, label, server_pid=None):
    """Create an image, PUT ``path``, check it went active with the md5.

    With ``server_pid`` the server's CPU seconds per GB are recorded too: a
    figure that drifts less than MB/s when other work shares the machine.
    """
    size = os.path.getsize(path)
    image_id = client.create_image(label)
    limit.warm(path)
    cpu = _server_cpu(server_pid)
    code, seconds, sent = limit.curl_upload(client.file_url(image_id), path,
                                            chunked=chunked)
    cpu = _server_cpu(server_pid) - cpu
    image = client.get_image(image_id)
    ok = (code == 204 and image['status'] == 'active'
          and image.get('size') == size
          and image.get('checksum') == expected_md5)
    return image_id, {'http_code': code, 'seconds': round(seconds, 3),
                      'mbps': mbps(sent, seconds), 'ok': ok,
                      'status': image['status'],
                      'server_cpu_s_per_gb': _cpu_per_gb(cpu, size)}


def download(client, image_id, size, server_pid=None):
    cpu = _server_cpu(server_pid)
    code, seconds, got = limit.curl_download(client.file_url(image_id))
    cpu = _server_cpu(server_pid) - cpu
    return {'http_code': code, 'seconds': round(seconds, 3),
            'mbps': mbps(got, seconds), 'ok': code == 200 and got == size,
            'server_cpu_s_per_gb': _cpu_per_gb(cpu, size)}


class Baselines:
    """The limits of one file, measured again right around each transfer.

    The machine and its disk are shared, so a throughput measured minutes
    apart is not comparable: each upload is bracketed by the ``parallel``
    limit (before and after) and each download by the sendfile/curl
    baseline, and the ratios use the mean of the two.
    """

    def __init__(self, path, directory, fsync, sync_interval):
        self.path = path
        self.directory = directory
        self.fsync = fsync
        self.sync_interval = sync_interval
        os.makedirs(directory, exist_ok=True)

    def parallel(self):
        settle()
        limit.warm(self.path)
        return limit.copy(self.path, self.directory, limit.MIB, 'parallel',
                          self.fsync, self.sync_interval)['mbps']

    def durable_receiver(self):
        settle()
        return limit.durable_receiver(self.path, self.directory,
                                      self.sync_interval)

    def sendfile_curl(self):
        with limit.file_server(self.path) as url:
            limit.warm(self.path)
            code, seconds, got = limit.curl_download(url)
        return mbps(got, seconds) if code == 200 else None


def settle():
    """Flush what earlier runs left dirty, so it is not billed to the next."""
    os.sync()
    time.sleep(1)


def single_stream(client, path, md5, label, server_pid, baselines,
                  watch_rss=False, modes=None):
    """Upload (Content-Length, chunked) and download one file.

    With ``watch_rss`` the Content-Length upload is watched by an
    RSSSampler, whose result is returned under 'rss'.
    """
    result = {}
    size = os.path.getsize(path)
    for mode in modes or ('content_length', 'chunked'):
        chunked = mode == 'chunked'
        before = baselines.parallel()
        receiver_before = baselines.durable_receiver()
        settle()
        if watch_rss and not chunked:
            with RSSSampler(server_pid) as sampler:
                image_id, run = upload(client, path, chunked, md5, label,
                                       server_pid)
            result['rss'] = sampler.result()
        else:
            image_id, run = upload(client, path, chunked, md5, label,
                                   server_pid)
        run['limit_parallel_bracket'] = [before, baselines.parallel()]
        run['durable_receiver_bracket'] = [receiver_before,
                                           baselines.durable_receiver()]
        result['upload_' + mode] = run
        if mode == 'content_length':
            before = baselines.sendfile_curl()
            run = download(client, image_id, size, server_pid)
            run['sendfile_curl_bracket'] = [before, baselines.sendfile_curl()]
            result['download'] = run
        client.delete_image(image_id)
    return result


def concurrent(client, path, md5, count=4):
    """``count`` curl uploads of ``path`` at once; errors and aggregate MB/s."""
    size = os.path.getsize(path)
    ids = [client.create_image('bench-concurrent-%d' % i)
           for i in range(count)]
    limit.warm(path)
    procs = []
    start = time.perf_counter()
    for image_id in ids:
        argv = ['curl', '-sS', '-o', '/dev/null', '-X', 'PUT', '-T', path,
                '-H', 'Content-Type: application/octet-stream',
                '-H', 'Expect:', '-w', '%{http_code} %{time_total}',
                client.file_url(image_id)]
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outs = [proc.communicate() for proc in procs]
    wall = time.perf_counter() - start
    errors, times = [], []
    for image_id, (out, err) in zip(ids, outs):
        fields = out.split()
        image = client.get_image(image_id)
        if (not fields or fields[0] != '204' or image['status'] != 'active'
                or image.get('checksum') != md5):
            errors.append('%s: %s %s status=%s' % (
                image_id, out.strip(), err.strip()[:200], image['status']))
        if len(fields) > 1:
            times.append(float(fields[1]))
        client.delete_image(image_id)
    return {'uploads': count, 'bytes_each': size,
            'errors': len(errors), 'error_detail': errors[:4],
            'wall_seconds': round(wall, 3),
            'aggregate_mbps': mbps(size * count, wall),
            'slowest_seconds': round(max(times), 3) if times else None}
