"""Ratios, the issue's targets as checks, and the short human table.

Every ratio divides two figures of the same run: an upload by the in-process limit, a
download by the sendfile baseline, imageapi by Glance. Where Glance was not measured the
Glance figures quoted in the issue (measured earlier on this kind of machine) stand in,
and the check says so.
"""

# Glance 33 on this machine, as quoted in issue #4: 1 GiB upload MB/s and
# single-connection req/s.
GLANCE_REFERENCE = {'upload_mbps': 80.0, 'show': 64.0, 'list': 21.0,
                    'create': 16.0}
UPLOAD_VS_LIMIT = 0.9
UPLOAD_VS_GLANCE = 2.5
DOWNLOAD_VS_SENDFILE = 0.9
# MB = 10**6 bytes here as in MB/s: 100 MB is 95.4 MiB.
RSS_PER_WORKER_MB = 100
METADATA_VS_GLANCE = 10.0
P99_MS = 20.0
LIST_GROWTH = 1.5
# Issue #10: the Swift store against a plain Swift client, the catalog at scale.
SWIFT_VS_PLAIN = 0.8
# "Flat": the worker's RSS may grow this much (MB) during the large upload.
RSS_GROWTH_MB = 10
SCALE_LATENCY_GROWTH = 2.0
# "No slowdown" of paging, last tenth vs first tenth, with room for noise.
PAGING_GROWTH = 1.2
_LIST_SCENARIOS = ('list', 'list_filter', 'list_paging')


def _ratio(a, b):
    return round(a / b, 3) if a and b else None


def _mean(values):
    values = [v for v in values or () if v]
    return sum(values) / len(values) if values else None


def _upload_ratios(run, lim, glance_run):
    run['vs_limit_parallel'] = _ratio(run['mbps'], lim.get('parallel'))
    run['vs_limit_serial'] = _ratio(run['mbps'], lim.get('serial'))
    run['vs_limit_parallel_adjacent'] = _ratio(
        run['mbps'], _mean(run.get('limit_parallel_bracket')))
    run['vs_curl_upload_sink'] = _ratio(run['mbps'],
                                        lim.get('curl_upload_sink'))
    run['vs_durable_receiver_adjacent'] = _ratio(
        run['mbps'], _mean(run.get('durable_receiver_bracket')))
    if glance_run:
        run['vs_glance'] = _ratio(run['mbps'], glance_run['mbps'])
        # Each divided by its own adjacent limit first: the two servers
        # ran minutes apart on a shared disk.
        run['vs_glance_normalized'] = _ratio(
            run['vs_limit_parallel_adjacent'],
            _ratio(glance_run['mbps'],
                   _mean(glance_run.get('limit_parallel_bracket'))))


def add_ratios(result):
    """Write the ratios into each transfer entry, and imageapi/Glance."""
    limits = result.get('limit', {})
    glance = result.get('glance') or {}
    targets = list(result.get('backends', {}).values())
    if glance.get('transfer'):
        targets.append(glance)
    for backend in targets:
        for label, entry in backend.get('transfer', {}).items():
            lim = limits.get(label, {})
            for mode in ('upload_content_length', 'upload_chunked'):
                if entry.get(mode):
                    gl = None if backend is glance else glance.get(
                        'transfer', {}).get(label, {}).get(mode)
                    _upload_ratios(entry[mode], lim, gl)
            down = entry.get('download')
            if down:
                down['vs_sendfile_curl'] = _ratio(down['mbps'],
                                                  lim.get('sendfile_curl'))
                down['vs_sendfile_curl_adjacent'] = _ratio(
                    down['mbps'], _mean(down.get('sendfile_curl_bracket')))
        if backend is not glance:
            backend['vs_glance'] = _metadata_vs_glance(backend, glance)
    for entry in (result.get('swift') or {}).get('transfer', {}).values():
        entry['ratios'] = _swift_ratios(entry)
    scale = result.get('scale') or {}
    if len(scale.get('levels', {})) >= 2:
        scale['latency_growth'] = _scale_growth(scale)


def _swift_ratios(entry):
    """imageapi's Swift store over the plain client (mean of the two runs)."""
    plain = entry.get('plain_swift', {})
    plain_up = _mean([r['mbps'] for r in plain.get('upload', ())])
    plain_down = _mean([r['mbps'] for r in plain.get('download', ())])
    swift = entry.get('imageapi_swift', {})
    files = entry.get('imageapi_file', {})

    def mbps(side, key):
        return (side.get(key) or {}).get('mbps')
    return {
        'plain_upload_mbps': round(plain_up, 1) if plain_up else None,
        'plain_download_mbps': round(plain_down, 1) if plain_down else None,
        'upload_vs_plain': _ratio(mbps(swift, 'upload_content_length'),
                                  plain_up),
        'upload_chunked_vs_plain': _ratio(mbps(swift, 'upload_chunked'),
                                          plain_up),
        'download_vs_plain': _ratio(mbps(swift, 'download'), plain_down),
        'upload_vs_file_store': _ratio(
            mbps(swift, 'upload_content_length'),
            mbps(files, 'upload_content_length')),
        'download_vs_file_store': _ratio(mbps(swift, 'download'),
                                         mbps(files, 'download')),
    }


def _scale_growth(scale):
    """Latency at N over latency at the smallest level, per node and scenario."""
    levels = sorted(scale['levels'], key=int)
    low = scale['levels'][levels[0]].get('latency', {})
    high = scale['levels'][levels[-1]].get('latency', {})
    growth = {}
    for node, scenarios in high.items():
        for scenario, figures in scenarios.items():
            before = low.get(node, {}).get(scenario, {})
            growth.setdefault(node, {})[scenario] = {
                key: _ratio(figures.get(key), before.get(key))
                for key in ('p50_ms', 'p99_ms')}
    return growth


def _metadata_vs_glance(backend, glance):
    """req/s ratios, and Glance's server CPU per request over imageapi's."""
    ratios = {}
    for level, scenarios in backend.get('metadata', {}).items():
        gl_level = glance.get('metadata', {}).get(level, {})
        for name, by_conn in scenarios.items():
            for conn, figures in by_conn.items():
                gl = gl_level.get(name, {}).get(conn)
                if gl:
                    ratios.setdefault(level, {}).setdefault(name, {})[conn] = {
                        'rps': _ratio(figures['rps'], gl['rps']),
                        'cpu': _ratio(gl['server_cpu_ms_per_req'],
                                      figures['server_cpu_ms_per_req'])}
    return ratios


def _check(checks, target, where, value, threshold, ok, note=None):
    entry = {'target': target, 'where': where, 'value': value,
             'threshold': threshold, 'ok': ok}
    if note:
        entry['note'] = note
    checks.append(entry)


def _transfer_checks(checks, name, backend, glance):
    for label, entry in backend.get('transfer', {}).items():
        for mode in ('upload_content_length', 'upload_chunked'):
            run = entry.get(mode)
            if not run:
                continue
            value = run.get('vs_limit_parallel_adjacent') or \
                run.get('vs_limit_parallel')
            _check(checks, 'upload >= 90% of parallel-hash limit',
                   '%s %s %s' % (name, label, mode), value, UPLOAD_VS_LIMIT,
                   bool(run['ok'] and value and value >= UPLOAD_VS_LIMIT))
        run = entry.get('upload_content_length')
        if run and ('vs_glance' in run or label == '1G'):
            if 'vs_glance' in run:
                value, note = run['vs_glance'], (
                    'normalized by each one\'s adjacent limit: %s'
                    % run.get('vs_glance_normalized'))
            else:
                value = _ratio(run['mbps'], GLANCE_REFERENCE['upload_mbps'])
                note = 'vs the issue\'s Glance figure (80 MB/s), not measured'
            _check(checks, 'upload >= 2.5x Glance', '%s %s' % (name, label),
                   value, UPLOAD_VS_GLANCE,
                   bool(value and value >= UPLOAD_VS_GLANCE), note)
        down = entry.get('download')
        if down:
            value = down.get('vs_sendfile_curl_adjacent') or \
                down.get('vs_sendfile_curl')
            _check(checks, 'download >= 90% of sendfile/curl',
                   '%s %s' % (name, label), value, DOWNLOAD_VS_SENDFILE,
                   bool(down['ok'] and value and value >= DOWNLOAD_VS_SENDFILE))
        rss = entry.get('rss')
        if rss and rss['max_worker_peak_mib'] is not None:
            value = round(rss['max_worker_peak_mib'] * 1.048576, 1)
            _check(checks, 'peak RSS per worker < 100 MB during upload',
                   '%s %s' % (name, label), value, RSS_PER_WORKER_MB,
                   value < RSS_PER_WORKER_MB,
                   'MB = 10**6 bytes; the rss entry is in MiB')
    conc = backend.get('concurrent')
    if conc:
        _check(checks, '4 concurrent uploads: zero errors', name,
               conc['errors'], 0, conc['errors'] == 0)


def _metadata_checks(checks, name, backend, glance):
    metadata = backend.get('metadata', {})
    for level, scenarios in metadata.items():
        gl_level = glance.get('metadata', {}).get(level, {})
        for scenario in ('show', 'list', 'create'):
            mine = scenarios.get(scenario, {}).get('1')
            if not mine:
                continue
            gl = gl_level.get(scenario, {}).get('1')
            if gl:
                value = _ratio(mine['rps'], gl['rps'])
                note = 'server CPU per request, Glance/imageapi: %s' % _ratio(
                    gl['server_cpu_ms_per_req'], mine['server_cpu_ms_per_req'])
            else:
                value = _ratio(mine['rps'], GLANCE_REFERENCE[scenario])
                note = 'vs the issue\'s Glance figure, not measured'
            _check(checks, '>= 10x Glance req/s (1 connection)',
                   '%s %s images %s' % (name, level, scenario), value,
                   METADATA_VS_GLANCE,
                   bool(value and value >= METADATA_VS_GLANCE), note)
        for scenario, by_conn in scenarios.items():
            mine = by_conn.get('1') if isinstance(by_conn, dict) else None
            if mine:
                _check(checks, 'p99 < 20 ms at 1 connection',
                       '%s %s images %s' % (name, level, scenario),
                       mine['p99_ms'], P99_MS,
                       bool(mine['p99_ms'] and mine['p99_ms'] < P99_MS
                            and not mine['errors']))
    levels = sorted(metadata, key=int)
    if len(levels) >= 2:
        low, high = metadata[levels[0]], metadata[levels[-1]]
        for scenario in _LIST_SCENARIOS:
            a = low.get(scenario, {}).get('1')
            b = high.get(scenario, {}).get('1')
            if a and b:
                value = _ratio(b['p50_ms'], a['p50_ms'])
                _check(checks, 'list p50 at %s within 1.5x of %s images'
                       % (levels[-1], levels[0]),
                       '%s %s' % (name, scenario), value, LIST_GROWTH,
                       bool(value and value <= LIST_GROWTH))


def _swift_checks(checks, swift):
    if swift.get('error'):
        _check(checks, 'Swift store measured', 'swift', swift['error'][:200],
               None, False)
    for label, entry in swift.get('transfer', {}).items():
        ratios = entry.get('ratios', {})
        mine = entry.get('imageapi_swift', {})
        runs = [mine.get(k) for k in ('upload_content_length',
                                      'upload_chunked', 'download')]
        runs += entry.get('plain_swift', {}).get('upload', [])
        runs += entry.get('plain_swift', {}).get('download', [])
        for key, run in (('upload_vs_plain', 'upload_content_length'),
                         ('download_vs_plain', 'download')):
            value = ratios.get(key)
            _check(checks, 'Swift store %s >= 80%% of plain Swift client'
                   % run.replace('upload_content_length', 'upload'),
                   'swift %s' % label, value, SWIFT_VS_PLAIN,
                   bool(value and value >= SWIFT_VS_PLAIN
                        and all(r and r['ok'] for r in runs)))
        rss = mine.get('rss')
        if rss and rss['max_worker_peak_mib'] is not None:
            value = round(rss['max_worker_peak_mib'] * 1.048576, 1)
            _check(checks, 'peak RSS per worker < 100 MB during Swift upload',
                   'swift %s' % label, value, RSS_PER_WORKER_MB,
                   value < RSS_PER_WORKER_MB,
                   'MB = 10**6 bytes; the rss entry is in MiB')
            growth = max(
                (peak - (rss['worker_before_mib'].get(pid) or peak)
                 for pid, peak in rss['worker_peak_mib'].items()),
                default=0)
            value = round(growth * 1.048576, 1)
            _check(checks, 'worker RSS flat during Swift upload (growth MB)',
                   'swift %s' % label, value, RSS_GROWTH_MB,
                   value <= RSS_GROWTH_MB)


def _scale_checks(checks, scale):
    if scale.get('error'):
        _check(checks, 'catalog at scale measured', 'scale',
               scale['error'][:200], None, False)
    levels = sorted(scale.get('levels', {}), key=int)
    for node, scenarios in scale.get('latency_growth', {}).items():
        for scenario, growth in scenarios.items():
            for key in ('p50_ms', 'p99_ms'):
                value = growth.get(key)
                _check(checks, '%s %s at %s images within 2x of %s'
                       % (scenario, key[:3], levels[-1], levels[0]),
                       'scale %s' % node, value, SCALE_LATENCY_GROWTH,
                       bool(value and value <= SCALE_LATENCY_GROWTH))
    paging = scale.get('paging')
    if paging:
        _check(checks, 'paging lists every image once', 'scale',
               '%d of %d' % (paging['images'], paging['expected']),
               paging['expected'], paging['listed_all'])
        value = _ratio(paging['last_tenth_median_ms'],
                       paging['first_tenth_median_ms'])
        _check(checks, 'page time: last tenth of pages vs first tenth',
               'scale %d pages of %d' % (paging['pages'], scale.get(
                   'limit', 1000)), value, PAGING_GROWTH,
               bool(value and value <= PAGING_GROWTH),
               'median page time of each tenth, each page the faster of '
               'the passes')


# The target: a download from the cache at 90% of a plain sendfile.
CACHE_WARM_VS_SENDFILE = 0.9


def _cache_checks(checks, cache):
    if not cache:
        return
    if cache.get('error'):
        _check(checks, 'image cache measured', 'cache',
               cache['error'][:200], None, False)
        return
    _check(checks, 'warm (cache) download >= 90% of plain sendfile',
           'cache %d MiB' % (cache['size'] >> 20), cache['warm_vs_sendfile'],
           CACHE_WARM_VS_SENDFILE, cache['warm_within_90pct'],
           'cold (Swift) %s MB/s' % cache['cold']['mbps'])


def _cache_table(cache):
    if not cache or cache.get('error'):
        return []
    return ['cache %d MiB MB/s: cold (Swift) %s, warm (cache) %s, plain '
            'sendfile %s, warm/sendfile %s (rounds: warm %s, sendfile %s)'
            % (cache['size'] >> 20, cache['cold']['mbps'], cache['warm'],
               cache['sendfile'], cache['warm_vs_sendfile'],
               cache['warm_mbps'], cache['sendfile_mbps'])]


def evaluate(result):
    """Ratios into ``result`` and the list of target checks."""
    add_ratios(result)
    glance = result.get('glance') or {}
    checks = []
    for name, backend in result.get('backends', {}).items():
        _transfer_checks(checks, name, backend, glance)
        _metadata_checks(checks, name, backend, glance)
    _swift_checks(checks, result.get('swift') or {})
    _cache_checks(checks, result.get('cache') or {})
    _scale_checks(checks, result.get('scale') or {})
    result['targets'] = checks
    result['targets_met'] = sum(1 for c in checks if c['ok'])
    result['targets_total'] = len(checks)
    return checks


def _fmt(value, width=8):
    if value is None:
        return '-'.rjust(width)
    if isinstance(value, float):
        return ('%.2f' % value if value < 10 else '%.1f' % value).rjust(width)
    return str(value).rjust(width)


def table(result):
    """A short plain-text summary of ``result`` (after evaluate)."""
    lines = []
    for label, lim in result.get('limit', {}).items():
        lines.append(
            'limit %-5s MB/s: parallel %s serial %s copy %s '
            'serial@store-chunk %s | sendfile-curl %s curl-sink %s '
            'durable-receiver %s'
            % (label, lim.get('parallel'), lim.get('serial'),
               lim.get('plain_copy'), lim.get('serial_store_chunk'),
               lim.get('sendfile_curl'), lim.get('curl_upload_sink'),
               lim.get('durable_receiver')))
    servers = dict(result.get('backends', {}))
    if result.get('glance', {}).get('transfer'):
        servers['glance'] = result['glance']
    lines += _transfer_table(servers)
    lines += _metadata_table(servers)
    lines += _swift_table(result.get('swift') or {})
    lines += _cache_table(result.get('cache') or {})
    lines += _scale_table(result.get('scale') or {})
    lines.append('targets met: %d/%d' % (result.get('targets_met', 0),
                                         result.get('targets_total', 0)))
    for check in result.get('targets', []):
        lines.append('  [%s] %s: %s (%s %s)%s' % (
            'x' if check['ok'] else ' ', check['where'], check['target'],
            check['value'], 'vs ' + str(check['threshold']),
            ' *' if check.get('note') else ''))
    return '\n'.join(lines)


def _transfer_table(servers):
    lines = ['%-34s %8s %8s %8s %8s %8s %8s %8s' % (
        'transfer', 'MB/s', 'xbase', 'xrecv', 'xserial', 'xglance',
        'xgl-norm', 'cpu s/GB')]
    for name, backend in servers.items():
        for label, entry in backend.get('transfer', {}).items():
            for mode in ('upload_content_length', 'upload_chunked',
                         'download'):
                run = entry.get(mode)
                if not run:
                    continue
                xbase = run.get('vs_limit_parallel_adjacent') or \
                    run.get('vs_sendfile_curl_adjacent')
                lines.append('%-34s %s %s %s %s %s %s %s' % (
                    '%s %s %s' % (name, label, mode.replace('upload_', 'up ')),
                    _fmt(run['mbps']), _fmt(xbase),
                    _fmt(run.get('vs_durable_receiver_adjacent')),
                    _fmt(run.get('vs_limit_serial')),
                    _fmt(run.get('vs_glance')),
                    _fmt(run.get('vs_glance_normalized')),
                    _fmt(run.get('server_cpu_s_per_gb'))))
            if entry.get('rss'):
                lines.append('%-34s peak worker RSS %s MiB' % (
                    '%s %s' % (name, label),
                    entry['rss']['max_worker_peak_mib']))
        if backend.get('concurrent'):
            conc = backend['concurrent']
            lines.append('%-34s %s MB/s aggregate, %d errors' % (
                '%s 4x concurrent' % name, conc['aggregate_mbps'],
                conc['errors']))
    return lines


def _metadata_table(servers):
    """One row per scenario: the fewest and the most connections side by side."""
    lines = ['%-30s %8s %7s %7s %8s %7s %7s %7s %7s' % (
        'metadata (c=low/high)', 'req/s', 'p50', 'p99', 'req/s', 'p99',
        'cpu ms', 'xglance', 'xgl-cpu')]
    for name, backend in servers.items():
        for level, scenarios in backend.get('metadata', {}).items():
            for scenario, by_conn in scenarios.items():
                conns = sorted(by_conn, key=int)
                low, high = by_conn[conns[0]], by_conn[conns[-1]]
                ratio = backend.get('vs_glance', {}).get(level, {}).get(
                    scenario, {}).get(conns[0], {})
                lines.append('%-30s %s %s %s %s %s %s %s %s' % (
                    '%s %s %s' % (name, level, scenario),
                    _fmt(low['rps']), _fmt(low['p50_ms'], 7),
                    _fmt(low['p99_ms'], 7), _fmt(high['rps']),
                    _fmt(high['p99_ms'], 7),
                    _fmt(low['server_cpu_ms_per_req'], 7),
                    _fmt(ratio.get('rps'), 7), _fmt(ratio.get('cpu'), 7)))
    return lines


def _swift_table(swift):
    """Plain Swift client, imageapi's Swift store and file store, per size."""
    if not swift.get('transfer'):
        return []
    lines = ['%-34s %8s %8s %8s %8s %8s' % ('swift (Swift %s)' % swift.get(
        'swift_version'), 'MB/s', 'xplain', 'xfile', 'cpu s/GB',
        'swiftcpu')]
    for label, entry in swift['transfer'].items():
        ratios = entry.get('ratios', {})
        mine = entry.get('imageapi_swift', {})
        files = entry.get('imageapi_file', {})
        plain = entry.get('plain_swift', {})
        rows = (
            ('plain swift up (mean of 2)', ratios.get('plain_upload_mbps'),
             None, None, plain.get('upload')),
            ('plain swift down (mean of 2)',
             ratios.get('plain_download_mbps'), None, None,
             plain.get('download')),
            ('swift store up CL', mine.get('upload_content_length'),
             ratios.get('upload_vs_plain'),
             ratios.get('upload_vs_file_store'), True),
            ('swift store up chunked (SLO)', mine.get('upload_chunked'),
             ratios.get('upload_chunked_vs_plain'), None, True),
            ('swift store down', mine.get('download'),
             ratios.get('download_vs_plain'),
             ratios.get('download_vs_file_store'), True),
            ('file store up CL', files.get('upload_content_length'),
             None, None, True),
            ('file store down', files.get('download'), None, None, True))
        for name, run, xplain, xfile, is_run in rows:
            if is_run is True:
                run = run or {}
                mbps, cpu = run.get('mbps'), run.get('server_cpu_s_per_gb')
                swift_cpu = run.get('swift_cpu_s_per_gb')
            else:  # the plain client: the mean of its runs
                mbps, cpu = run, None
                swift_cpu = _mean([r.get('swift_cpu_s_per_gb')
                                   for r in is_run or ()])
            lines.append('%-34s %s %s %s %s %s' % (
                '%s %s' % (label, name), _fmt(mbps), _fmt(xplain),
                _fmt(xfile), _fmt(cpu), _fmt(swift_cpu)))
        if mine.get('rss'):
            rss = mine['rss']
            lines.append('%-34s peak worker RSS %s MiB (before %s)' % (
                '%s swift store' % label, rss['max_worker_peak_mib'],
                max(rss['worker_before_mib'].values(), default=None)))
    return lines


def _scale_table(scale):
    """Latency at the smallest level and at N, per node; the paging."""
    levels = sorted(scale.get('levels', {}), key=int)
    if not levels:
        return []
    lines = ['scale: %s images, seeded (COPY) in %s s' % (
        levels[-1], round(sum(scale['levels'][lv]['seed_seconds']
                              for lv in levels), 1))]
    lines.append('%-30s %9s %9s %9s %9s %7s %7s' % (
        'scale latency ms', 'p50@%s' % levels[0], 'p99@%s' % levels[0],
        'p50@N', 'p99@N', 'x p50', 'x p99'))
    low = scale['levels'][levels[0]].get('latency', {})
    high = scale['levels'][levels[-1]].get('latency', {})
    growth = scale.get('latency_growth', {})
    for node, scenarios in high.items():
        for scenario, figures in scenarios.items():
            before = low.get(node, {}).get(scenario, {})
            ratio = growth.get(node, {}).get(scenario, {})
            lines.append('%-30s %s %s %s %s %s %s' % (
                '%s %s' % (node, scenario), _fmt(before.get('p50_ms'), 9),
                _fmt(before.get('p99_ms'), 9), _fmt(figures['p50_ms'], 9),
                _fmt(figures['p99_ms'], 9), _fmt(ratio.get('p50_ms'), 7),
                _fmt(ratio.get('p99_ms'), 7)))
    paging = scale.get('paging')
    if paging:
        lines.append(
            'scale paging: %d pages of %d in %s s a pass, %d images listed; '
            'median page (faster of %d passes) %s ms (first tenth) / %s ms '
            '(last tenth)' % (
                paging['pages'], scale.get('limit', 1000),
                paging['seconds_per_pass'], paging['images'],
                paging['passes'],
                paging['first_tenth_median_ms'],
                paging['last_tenth_median_ms']))
    return lines
