"""The servers under test, as subprocesses on 127.0.0.1 port 0, and their databases.

``ImageAPIServer`` runs this checkout's ``imageapi-api`` (gunicorn gthread) with its
shipped defaults, state in a temp dir, as ``python -m imageapi.cmd.api`` with the
checkout first on PYTHONPATH (the venv's console scripts run whichever tree the venv
installed, not necessarily this one); ``GlanceServer`` runs Glance's WSGI app under
gunicorn with the same worker settings. Each runs in its own session, so one signal
reaches the arbiter and its workers, and ``stop`` leaves nothing behind.
"""

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PASTE_INI = os.path.join(REPO_ROOT, 'etc', 'imageapi-paste.ini')

_IMAGEAPI_LISTENING = re.compile(
    r'imageapi-api listening on http://([0-9.]+):(\d+)')
_GUNICORN_LISTENING = re.compile(r'Listening at: http://([0-9.]+):(\d+)')
# Environment that would point imageapi at another configuration.
_FOREIGN_ENV = re.compile(r'^(OS_IMAGEAPI_CONFIG_(DIR|FILE)|OS_[A-Z_]+__)')


def proc_children(pid):
    """PIDs of live children of ``pid``, from /proc."""
    children = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != 'Z':
            children.append(int(entry))
    return sorted(children)


def cpu_seconds(pids):
    """utime + stime of ``pids`` in seconds (a vanished pid counts 0)."""
    total = 0
    tick = os.sysconf('SC_CLK_TCK')
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class _Process:
    """A server subprocess whose log announces ``host:port`` via ``pattern``."""

    start_timeout = 120
    pattern = None
    name = 'server'

    def __init__(self, log_path):
        self.log_path = log_path
        self.process = None
        self.host = self.port = None

    def _spawn(self, argv, env, cwd):
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_listening()
            self._wait_answering()
        except Exception:
            self.stop()
            raise

    def log(self):
        with open(self.log_path, 'rb') as log:
            return log.read().decode('utf-8', 'replace')

    def _wait_listening(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            match = self.pattern.search(self.log())
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError('%s did not start:\n%s'
                           % (self.name, self.log()[-3000:]))

    def _wait_answering(self):
        """Both workers must have loaded the app: ask until two answered."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection(self.host, self.port,
                                                  timeout=30)
                conn.request('GET', '/v2/images?limit=1')
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError('%s does not answer:\n%s'
                           % (self.name, self.log()[-3000:]))

    @property
    def pid(self):
        return self.process.pid

    def worker_pids(self):
        return proc_children(self.pid)

    def _signal(self, sig):
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self):
        """SIGTERM to the process group, SIGKILL after 20 s; idempotent."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(20)
        # Workers that outlived the arbiter share its process group.
        self._signal(signal.SIGKILL)


class ImageAPIServer(_Process):
    """``imageapi-api --bind 127.0.0.1:0 --workers N`` on ``state_path``."""

    pattern = _IMAGEAPI_LISTENING
    name = 'imageapi-api'

    def __init__(self, state_path, workers=2, connection=None, env=None):
        super().__init__(os.path.join(state_path, 'imageapi-api.log'))
        self.state_path = state_path
        self.workers = workers
        self.connection = connection
        # More OS_<GROUP>__<OPTION> settings, such as the Swift store's.
        self.extra_env = dict(env or {})
        # An empty config file: the shipped defaults, and no config file
        # of this machine (/etc/imageapi, ~/.imageapi) is read.
        self.config_file = os.path.join(state_path, 'imageapi.conf')
        with open(self.config_file, 'w') as conf:
            conf.write('# imageapi bench: shipped defaults\n')

    @property
    def db_url(self):
        return self.connection or 'sqlite:///%s' % os.path.join(
            self.state_path, 'imageapi.sqlite')

    def environ(self):
        env = {k: v for k, v in os.environ.items()
               if not _FOREIGN_ENV.match(k)}
        env['OS_DEFAULT__STATE_PATH'] = self.state_path
        env['OS_PASTE_DEPLOY__CONFIG_FILE'] = PASTE_INI
        env['PYTHONUNBUFFERED'] = '1'
        env['PYTHONPATH'] = os.pathsep.join(
            [REPO_ROOT] + [p for p in env.get('PYTHONPATH', '').split(
                os.pathsep) if p])
        if self.connection:
            env['OS_DATABASE__CONNECTION'] = self.connection
        env.update(self.extra_env)
        return env

    def _command(self, name):
        """This checkout's code, whatever tree the venv installed."""
        module = {'imageapi-api': 'api', 'imageapi-manage': 'manage'}[name]
        return [sys.executable, '-m', 'imageapi.cmd.' + module]

    def db_sync(self):
        """``imageapi-manage db sync``: non-SQLite is not migrated on start."""
        subprocess.run(
            self._command('imageapi-manage')
            + ['--config-file', self.config_file, 'db', 'sync'],
            env=self.environ(), cwd=self.state_path, check=True,
            capture_output=True, timeout=300)

    def start(self):
        argv = self._command('imageapi-api') + [
            '--config-file', self.config_file,
            '--bind', '127.0.0.1:0', '--workers', str(self.workers)]
        self._spawn(argv, self.environ(), self.state_path)


class GlanceServer(_Process):
    """Glance's ``glance.wsgi.api:application`` under gunicorn, gthread."""

    pattern = _GUNICORN_LISTENING
    name = 'glance (gunicorn)'

    def __init__(self, venv, config_dir, workers=2, threads=8):
        super().__init__(os.path.join(config_dir, 'glance-api.log'))
        self.venv = venv
        self.config_dir = config_dir
        self.workers = workers
        self.threads = threads

    def start(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        env['OS_GLANCE_CONFIG_DIR'] = self.config_dir
        # The same gunicorn settings as imageapi-api's (cmd/api.py).
        argv = [os.path.join(self.venv, 'bin', 'gunicorn'),
                '--bind', '127.0.0.1:0', '--workers', str(self.workers),
                '--worker-class', 'gthread', '--threads', str(self.threads),
                '--timeout', '120', '--keep-alive', '5',
                '--no-control-socket', 'glance.wsgi.api:application']
        self._spawn(argv, env, self.config_dir)


# ---------------------------------------------------------------- PostgreSQL

def create_database(admin_url):
    """CREATE DATABASE bench_<random> on the server of ``admin_url``.

    :returns: the SQLAlchemy URL (psycopg2) of the new database.
    """
    url = sa_url.make_url(admin_url).set(drivername='postgresql+psycopg2')
    name = 'bench_%s' % uuid.uuid4().hex[:12]
    engine = sa.create_engine(url, isolation_level='AUTOCOMMIT')
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE %s' % name)
    finally:
        engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url, db_url):
    """DROP DATABASE ... WITH (FORCE) of a database create_database made."""
    name = sa_url.make_url(db_url).database
    url = sa_url.make_url(admin_url).set(drivername='postgresql+psycopg2')
    engine = sa.create_engine(url, isolation_level='AUTOCOMMIT')
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('DROP DATABASE IF EXISTS %s WITH (FORCE)'
                                 % name)
    finally:
        engine.dispose()


def analyze(db_url):
    """ANALYZE, as autovacuum would soon after a bulk load.

    Right after seeding, PostgreSQL has no statistics of the new rows and
    plans the selectin loads of properties and tags as sequential scans.
    """
    engine = sa.create_engine(db_url, isolation_level='AUTOCOMMIT')
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('ANALYZE')
    finally:
        engine.dispose()


def server_version(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql('SHOW server_version').scalar()
    finally:
        engine.dispose()
