"""Step 4 (``--glance``): a real Glance from PyPI, side by side with imageapi.

Glance is installed into a throwaway virtualenv (kept between runs in --glance-venv, so
only the first run pays for pip), configured minimally: SQLite, one filesystem store,
the default paste flavor (unauthenticated context, every caller admin), a policy file
that allows every rule (Glance's unauthenticated context has no roles, which its
default RBAC rules refuse), then ``glance-manage db_sync``. Any failure raises
GlanceUnavailable with the reason, and the run goes on without Glance.
"""

import os
import subprocess
import sys

import servers

DEFAULT_VERSION = '33.0.0'


class GlanceUnavailable(Exception):
    pass


def _run(argv, timeout, **kw):
    try:
        done = subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout, **kw)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GlanceUnavailable('%s: %s' % (' '.join(argv[:3]), exc))
    if done.returncode:
        raise GlanceUnavailable('%s exited %d: %s' % (
            ' '.join(argv[:3]), done.returncode,
            (done.stderr or done.stdout)[-1500:]))
    return done.stdout


def ensure_venv(venv, version, log):
    """Create ``venv`` with glance==version and gunicorn unless it has them."""
    python = os.path.join(venv, 'bin', 'python')
    probe = ('import importlib.metadata as m; '
             'print(m.version("glance"), m.version("gunicorn"))')
    if os.path.exists(python):
        try:
            found = _run([python, '-c', probe], 120).split()
            if found and found[0] == version:
                return found[0]
        except GlanceUnavailable:
            pass
    log('installing glance==%s into %s (a few minutes the first time)'
        % (version, venv))
    base = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') \
        else sys.executable
    _run([base, '-m', 'venv', venv], 300)
    _run([python, '-m', 'pip', 'install', '-q', 'glance==%s' % version,
          'gunicorn'], 1800)
    return _run([python, '-c', probe], 120).split()[0]


def _policy_rules(venv):
    script = ('import warnings; warnings.simplefilter("ignore"); '
              'from glance import policies; '
              'print("\\n".join(r.name for r in policies.list_rules()))')
    out = _run([os.path.join(venv, 'bin', 'python'), '-c', script], 300)
    return [name for name in out.split() if name]


def configure(venv, work_dir):
    """Write glance-api.conf and policy.yaml under ``work_dir``; db_sync."""
    etc = os.path.join(work_dir, 'etc')
    dirs = {name: os.path.join(work_dir, name)
            for name in ('images', 'staging', 'tasks')}
    for path in [etc] + list(dirs.values()):
        os.makedirs(path, exist_ok=True)
    policy = os.path.join(etc, 'policy.yaml')
    with open(policy, 'w') as out:
        out.writelines('"%s": ""\n' % name for name in _policy_rules(venv))
    conf = os.path.join(etc, 'glance-api.conf')
    paste = os.path.join(venv, 'etc', 'glance', 'glance-api-paste.ini')
    if not os.path.exists(paste):
        raise GlanceUnavailable('no glance-api-paste.ini in %s' % paste)
    with open(conf, 'w') as out:
        out.write(
            '[DEFAULT]\nenabled_backends = fs:file\n'
            '[database]\nconnection = sqlite:///%s\n'
            '[glance_store]\ndefault_backend = fs\n'
            '[fs]\nfilesystem_store_datadir = %s\n'
            '[os_glance_staging_store]\nfilesystem_store_datadir = %s\n'
            '[os_glance_tasks_store]\nfilesystem_store_datadir = %s\n'
            '[paste_deploy]\nconfig_file = %s\n'
            '[oslo_policy]\npolicy_file = %s\n'
            'enforce_new_defaults = false\nenforce_scope = false\n'
            % (os.path.join(work_dir, 'glance.sqlite'), dirs['images'],
               dirs['staging'], dirs['tasks'], paste, policy))
    _run([os.path.join(venv, 'bin', 'glance-manage'), '--config-file', conf,
          'db_sync'], 600, cwd=work_dir)
    return etc, conf


def start(venv, work_dir, workers, log):
    """Configure and start Glance; returns (GlanceServer, config file)."""
    etc, conf = configure(venv, work_dir)
    server = servers.GlanceServer(venv, etc, workers=workers)
    try:
        server.start()
    except RuntimeError as exc:
        raise GlanceUnavailable(str(exc)[-1500:])
    log('glance listening on http://%s:%d' % (server.host, server.port))
    return server, conf


def seed(venv, conf, start_index, count):
    """Ids of ``count`` new images, inserted by seed_glance.py."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          'seed_glance.py')
    out = _run([os.path.join(venv, 'bin', 'python'), script, conf,
                str(start_index), str(count)], 1800)
    return out.split()
