"""The real ``imageapi-api`` in a subprocess, on port 0, for functional tests.

The server runs with no config file (the embedded default: noauth, SQLite, filesystem
store) and ``OS_DEFAULT__STATE_PATH`` pointing at a directory of the test. It runs in its
own session, so one signal reaches the gunicorn arbiter and its workers together, and
nothing outlives the test: cleanup sends SIGTERM, then SIGKILL to the whole group.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import fixtures
import gunicorn as gunicorn_version

from imageapi.tests.functional import client as http_client

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
PASTE_INI = os.path.join(REPO_ROOT, 'etc', 'imageapi-paste.ini')

_LISTENING = re.compile(
    r'^imageapi-api listening on http://(\[[^\]]+\]|[^:\s]+):(\d+)\s*$',
    re.MULTILINE)
# Environment that would point the server at another configuration.
_FOREIGN_ENV = re.compile(r'^(OS_IMAGEAPI_CONFIG_(DIR|FILE)|OS_[A-Z_]+__)')


def server_command():
    """argv prefix that runs imageapi-api with the running interpreter.

    As a module, not the console script: the script imports the imageapi
    its environment installed, which can be another checkout than this
    one (a git worktree); PYTHONPATH (see Server._environ) picks this one.
    """
    return [sys.executable, '-m', 'imageapi.cmd.api']


def gunicorn_command():
    """The gunicorn script of the running interpreter's environment."""
    gunicorn = os.path.join(os.path.dirname(sys.executable), 'gunicorn')
    if not os.path.exists(gunicorn):
        gunicorn = shutil.which('gunicorn') or 'gunicorn'
    return gunicorn


def write_config_file(directory, state_path):
    """``directory/imageapi.conf`` setting ``state_path``; returns its path.

    Other options reach the server as OS_<GROUP>__<OPTION> variables.
    """
    path = os.path.join(directory, 'imageapi.conf')
    with open(path, 'w') as conf:
        conf.write('[DEFAULT]\nstate_path = %s\n' % state_path)
    os.chmod(path, 0o644)
    return path


class Server(fixtures.Fixture):
    """``imageapi-api --bind 127.0.0.1:0 --workers N`` on ``state_path``.

    :param state_path: becomes OS_DEFAULT__STATE_PATH; kept across restart().
    :param env: extra environment, e.g. ``{'OS_DEFAULT__IMAGE_SIZE_CAP':
        '1024'}`` to set options without a config file.
    :param args: extra command line arguments.

    After setUp: ``host``, ``port``, ``url``, ``pid`` (the arbiter),
    ``worker_pids()``, ``client()``, ``log()``; ``kill()`` for crashes and
    ``restart()`` to start again on the same state directory.
    """

    name = 'imageapi-api'
    start_timeout = 60
    stop_timeout = 15
    listening = _LISTENING

    def __init__(self, state_path, workers=1, env=None, args=()):
        super().__init__()
        self.state_path = state_path
        self.workers = workers
        self.env = dict(env or {})
        self.args = list(args)
        self.process = None
        self.host = None
        self.port = None
        self._starts = 0
        self._log_path = None

    def _setUp(self):
        self.log_dir = self.useFixture(fixtures.TempDir()).path
        self.addCleanup(self.stop)
        self.start()

    # ------------------------------------------------------------ lifecycle
    def _environ(self):
        env = {k: v for k, v in os.environ.items()
               if not _FOREIGN_ENV.match(k)}
        env['OS_DEFAULT__STATE_PATH'] = self.state_path
        # Serve the code and the paste file of this checkout, not an
        # installed copy.
        env['PYTHONPATH'] = os.pathsep.join(
            [REPO_ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
        env['OS_PASTE_DEPLOY__CONFIG_FILE'] = PASTE_INI
        env['PYTHONUNBUFFERED'] = '1'
        env.update(self.env)
        return env

    def start(self, port=0):
        """Start the server and wait until it answers; port 0 picks one."""
        if self.running:
            raise RuntimeError('%s is already running' % self.name)
        self._starts += 1
        self._log_path = os.path.join(
            self.log_dir, '%s.%d.log' % (self.name, self._starts))
        argv = self.command(port) + self.args
        with open(self._log_path, 'wb') as log:
            self.process = subprocess.Popen(
                argv, env=self._environ(), cwd=self.log_dir,
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.host, self.port = self._wait_listening()
            self._wait_answering()
        except Exception:
            self.stop()
            raise

    def command(self, port):
        return server_command() + ['--bind', '127.0.0.1:%d' % port,
                                   '--workers', str(self.workers)]

    def _wait_listening(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            address = self.listening_address()
            if address:
                return address
            if self.process.poll() is not None:
                raise RuntimeError(
                    '%s exited with %s before listening:\n%s'
                    % (self.name, self.process.returncode,
                       self.log()[-4000:]))
            time.sleep(0.05)
        raise RuntimeError('%s did not listen within %ss:\n%s'
                           % (self.name, self.start_timeout,
                              self.log()[-4000:]))

    def listening_address(self):
        """(host, port) once the server printed that it listens, else None."""
        match = self.listening.search(self.log())
        if match:
            return match.group(1).strip('[]'), int(match.group(2))
        return None

    def _wait_answering(self):
        """A worker has loaded the paste app once GET / gives 300."""
        deadline = time.monotonic() + self.start_timeout
        error = None
        while time.monotonic() < deadline:
            try:
                if self.client(timeout=10).get('/').status == 300:
                    return
            except OSError as exc:
                error = exc
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError('%s does not answer (%s):\n%s'
                           % (self.name, error, self.log()[-4000:]))

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self):
        """PID of the gunicorn arbiter; its workers share its process group."""
        return self.process.pid

    @property
    def url(self):
        return 'http://%s:%d' % (self.host, self.port)

    def _processes(self):
        """(pid, state, ppid, pgrp) of every process, from /proc."""
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % entry) as stat:
                    fields = stat.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            yield int(entry), fields[0], int(fields[1]), int(fields[2])

    def worker_pids(self):
        """PIDs of the arbiter's current worker processes."""
        return sorted(pid for pid, state, ppid, _pgrp in self._processes()
                      if ppid == self.pid and state != 'Z')

    def _group_alive(self):
        return any(pgrp == self.pid and state != 'Z'
                   for _pid, state, _ppid, pgrp in self._processes())

    def kill(self, sig=signal.SIGKILL):
        """Send ``sig`` to the arbiter and workers at once; wait if fatal.

        SIGKILL plays a crash: no worker finishes its request.
        """
        self._signal_group(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            self.process.wait(self.stop_timeout)
            self._reap_group()

    def stop(self):
        """SIGTERM (gunicorn's graceful stop), then SIGKILL; idempotent."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(self.stop_timeout)
        self._reap_group()

    def restart(self, same_port=False):
        """Stop (gracefully) if running, then start on the same state_path."""
        port = self.port if same_port else 0
        self.stop()
        self.start(port=port)

    def _signal_group(self, sig):
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def _reap_group(self):
        """SIGKILL whatever is left of the group: no worker outlives us."""
        deadline = time.monotonic() + 5
        while self._group_alive() and time.monotonic() < deadline:
            self._signal_group(signal.SIGKILL)
            time.sleep(0.05)

    # ------------------------------------------------------------ access
    def client(self, headers=None, timeout=60):
        return http_client.Client(self.host, self.port, headers=headers,
                                  timeout=timeout)

    def log(self):
        """Everything the server wrote to stdout and stderr since start()."""
        if self._log_path is None or not os.path.exists(self._log_path):
            return ''
        with open(self._log_path, 'rb') as log:
            return log.read().decode('utf-8', 'replace')


class GunicornServer(Server):
    """``gunicorn -k gthread imageapi.wsgi:application``: the WSGI entry point.

    Runs the module mod_wsgi and uWSGI load, configured the way they are:
    through OS_IMAGEAPI_CONFIG_FILE, here a file that sets state_path only.
    Workers build the app on their first request, all at once.
    """

    name = 'gunicorn'
    listening = re.compile(
        r'Listening at: http://(\[[^\]]+\]|[^:\s]+):(\d+) ')

    def command(self, port):
        self.env['OS_IMAGEAPI_CONFIG_FILE'] = write_config_file(
            self.log_dir, self.state_path)
        argv = [gunicorn_command(), '--worker-class', 'gthread',
                '--threads', '4', '--workers', str(self.workers),
                '--bind', '127.0.0.1:%d' % port, 'imageapi.wsgi:application']
        if gunicorn_version.version_info >= (25, 1):
            argv.insert(1, '--no-control-socket')
        return argv

    def _wait_answering(self):
        """Workers load the app lazily: a listening socket is enough."""
