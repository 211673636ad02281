"""Step 3: metadata requests per second and latency, with a Python load client.

Each connection is its own forked process with one http.client keep-alive connection
(no GIL shared between connections), sending requests back to back for a fixed time and
recording each latency with perf_counter. The same scenarios run against imageapi and
Glance. Server CPU seconds per request come from /proc of the server's processes.
"""

import array
import http.client
import json
import multiprocessing
import os
import random
import time

import servers

PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
PAGING_DEPTH = 5

# name -> (method, expected status); paths are built in _Scenario.next().
SCENARIOS = (
    ('show', 'GET', 200),
    ('list', 'GET', 200),
    ('list_filter', 'GET', 200),
    ('list_paging', 'GET', 200),
    ('create', 'POST', 201),
    ('patch', 'PATCH', 200),
)
EXPECTED = {name: status for name, _method, status in SCENARIOS}


class _Scenario:
    """Builds the next request of one scenario for one connection."""

    def __init__(self, name, ids, seed):
        self.name = name
        self.ids = ids
        self.rand = random.Random(seed)
        self.count = 0
        self.page = 0
        self.next_path = None

    def next(self):
        """(method, path, body, headers, is_marker_page)."""
        self.count += 1
        name = self.name
        if name == 'show':
            return 'GET', '/v2/images/' + self.rand.choice(self.ids), \
                None, {}, False
        if name == 'list':
            return 'GET', '/v2/images?limit=20', None, {}, False
        if name == 'list_filter':
            return 'GET', '/v2/images?limit=20&status=active', None, {}, \
                False
        if name == 'list_paging':
            if self.next_path is None or self.page >= PAGING_DEPTH:
                self.page = 0
                self.next_path = None
                return 'GET', '/v2/images?limit=20', None, {}, False
            self.page += 1
            return 'GET', self.next_path, None, {}, True
        if name == 'create':
            body = {'name': 'bench-create-%d' % self.count,
                    'disk_format': 'raw', 'container_format': 'bare',
                    'os_distro': 'cirros'}
            return 'POST', '/v2/images', json.dumps(body).encode(), \
                {'Content-Type': 'application/json'}, False
        if name == 'patch':
            ops = [{'op': 'replace', 'path': '/name',
                    'value': 'bench-patched-%d' % self.count}]
            return 'PATCH', '/v2/images/' + self.rand.choice(self.ids), \
                json.dumps(ops).encode(), {'Content-Type': PATCH_TYPE}, False
        raise ValueError(name)

    def saw(self, body):
        if self.name == 'list_paging':
            try:
                self.next_path = json.loads(body).get('next')
            except ValueError:
                self.next_path = None


def _connection_loop(host, port, name, ids, start_at, deadline, seed, pipe):
    """One connection: requests back to back until ``deadline``."""
    scenario = _Scenario(name, ids, seed)
    latencies = array.array('d')
    marker = array.array('d')
    errors = 0
    statuses = {}
    expected = EXPECTED[name]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    while time.monotonic() < start_at:
        time.sleep(0.001)
    cpu0 = os.times()
    while time.monotonic() < deadline:
        method, path, body, headers, is_marker = scenario.next()
        begin = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError) as exc:
            errors += 1
            statuses[type(exc).__name__] = statuses.get(
                type(exc).__name__, 0) + 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
            continue
        elapsed = time.perf_counter() - begin
        latencies.append(elapsed)
        if is_marker:
            marker.append(elapsed)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if response.status != expected:
            errors += 1
        scenario.saw(data)
    cpu1 = os.times()
    conn.close()
    pipe.send((latencies.tobytes(), marker.tobytes(), errors, statuses,
               (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)))
    pipe.close()


def _percentile(ordered, fraction):
    if not ordered:
        return None
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return round(ordered[index] * 1000, 2)


def _merge(results, elapsed, server_cpu):
    latencies, marker, statuses = [], [], {}
    errors, client_cpu = 0, 0.0
    for lat_bytes, marker_bytes, errs, stats, cpu in results:
        latencies.extend(array.array('d', lat_bytes))
        marker.extend(array.array('d', marker_bytes))
        errors += errs
        client_cpu += cpu
        for key, value in stats.items():
            statuses[str(key)] = statuses.get(str(key), 0) + value
    latencies.sort()
    marker.sort()
    count = len(latencies)
    result = {
        'requests': count, 'errors': errors, 'statuses': statuses,
        # Only answers with the expected status count as served.
        'rps': round(max(count - errors, 0) / elapsed, 1),
        'p50_ms': _percentile(latencies, 0.50),
        'p90_ms': _percentile(latencies, 0.90),
        'p99_ms': _percentile(latencies, 0.99),
        'max_ms': _percentile(latencies, 1.0),
        'client_cpu_ms_per_req': round(client_cpu * 1000 / count, 3)
        if count else None,
        'server_cpu_ms_per_req': round(server_cpu * 1000 / count, 3)
        if count else None,
    }
    if marker:
        result['marker_page_p50_ms'] = _percentile(marker, 0.50)
        result['marker_page_p99_ms'] = _percentile(marker, 0.99)
    return result


def run_load(host, port, name, ids, connections, duration, server_pid=None):
    """``connections`` processes send scenario ``name`` for ``duration`` s."""
    ctx = multiprocessing.get_context('fork')
    start_at = time.monotonic() + 0.3
    deadline = start_at + duration
    procs, pipes = [], []
    for index in range(connections):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_connection_loop, args=(
            host, port, name, ids, start_at, deadline, index * 7919, child))
        proc.start()
        child.close()
        procs.append(proc)
        pipes.append(parent)
    pids = ([server_pid] + servers.proc_children(server_pid)
            if server_pid else [])
    while time.monotonic() < start_at:
        time.sleep(0.001)
    cpu_before = servers.cpu_seconds(pids)
    results = [pipe.recv() for pipe in pipes]
    cpu_after = servers.cpu_seconds(pids)
    for proc in procs:
        proc.join(30)
    return _merge(results, duration, cpu_after - cpu_before)


def run_suite(host, port, ids, connections_list, duration, server_pid, log,
              scenarios=None, warmup=1.0):
    """Every scenario at every connection count; reads first, writes last.

    A short warm-up of each scenario (not recorded) lets every worker
    thread open its DB connections and fill its caches first.
    """
    results = {}
    for name, _method, _status in SCENARIOS:
        if scenarios and name not in scenarios:
            continue
        run_load(host, port, name, ids, max(connections_list), warmup)
        results[name] = {}
        for connections in connections_list:
            figures = run_load(host, port, name, ids, connections, duration,
                               server_pid)
            results[name][str(connections)] = figures
            log('  %-12s c=%d  %7.1f req/s  p50 %6.2f ms  p99 %6.2f ms  '
                'errors %d' % (name, connections, figures['rps'],
                               figures['p50_ms'] or 0,
                               figures['p99_ms'] or 0, figures['errors']))
    return results
