"""The servers an operator deploys with, for ``tox -e deploy``: Apache and gunicorn.

``ApacheServer`` runs Debian's apache2 with mod_wsgi in daemon mode from a throwaway
ServerRoot that includes this checkout's etc/apache2/imageapi.conf, serving from the
virtualenv the tests run in (python-home). ``GunicornConfServer`` runs plain gunicorn
with etc/gunicorn.conf.py. Both load ``imageapi.wsgi:application`` with a config file
that sets ``state_path``, as an operator's would. Without apache2 or a matching
mod_wsgi the Apache tests skip, or fail when IMAGEAPI_TEST_REQUIRE_DEPLOY is set
(as ``tox -e deploy`` does).
"""

import grp
import os
import pwd
import re
import shutil
import socket
import stat
import sys

from imageapi.tests.functional import server as server_fixture

APACHE_SITE = os.path.join(server_fixture.REPO_ROOT, 'etc', 'apache2',
                           'imageapi.conf')
GUNICORN_CONF = os.path.join(server_fixture.REPO_ROOT, 'etc',
                             'gunicorn.conf.py')
APACHE_MODULES = '/usr/lib/apache2/modules'
# The user Debian's Apache runs as; the daemon processes run as it when the
# tests run as root (Apache refuses to serve as root).
APACHE_USER = 'www-data'

_HTTPD_CONF = '''\
ServerRoot "{root}"
ServerName 127.0.0.1
PidFile {root}/apache2.pid
DefaultRuntimeDir {root}
Mutex file:{root} default
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule wsgi_module {modules}/mod_wsgi.so
{user_lines}
ErrorLog /dev/stderr
LogLevel info
WSGISocketPrefix {root}/wsgi
# As Debian's apache2.conf has it: no .htaccess lookups.
<Directory />
    AllowOverride None
</Directory>
Define IMAGEAPI_LISTEN 127.0.0.1:{port}
Define IMAGEAPI_PORT {port}
Define IMAGEAPI_VENV {venv}
Define IMAGEAPI_WSGI_SCRIPT {root}/imageapi.wsgi
Define IMAGEAPI_USER {user}
Define IMAGEAPI_GROUP {group}
Define IMAGEAPI_LOG_DIR {root}
Include {site}
'''

# What an operator's WSGI script file may hold instead of pbr's
# imageapi-wsgi-api: the module gunicorn and uWSGI load by name.
_WSGI_SCRIPT = 'from imageapi.wsgi import application  # noqa\n'


def free_port():
    """A loopback port free right now (another process may take it later)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def apache_unusable():
    """Why Apache with mod_wsgi cannot serve this interpreter, or None."""
    apache = shutil.which('apache2', path=os.environ.get('PATH', '') +
                          ':/usr/sbin:/sbin')
    module = os.path.join(APACHE_MODULES, 'mod_wsgi.so')
    if apache is None or not os.path.exists(module):
        return ('apache2 or mod_wsgi missing (tools/deploy/install-apache.sh '
                'installs them)')
    with open(module, 'rb') as so:
        built_for = re.search(rb'libpython(\d+\.\d+)', so.read())
    mine = '%d.%d' % sys.version_info[:2]
    if built_for is None or built_for.group(1).decode() != mine:
        return ('mod_wsgi is built for another Python than %s (%s); run '
                'the tests from a virtualenv of /usr/bin/python3'
                % (mine, built_for and built_for.group(1).decode()))
    if sys.base_prefix != '/usr':
        return ('the virtualenv is not made from the system Python that '
                'mod_wsgi embeds (base prefix %s, not /usr)'
                % sys.base_prefix)
    return None


def _let_others_search(directory):
    """``chmod o+x`` ``directory`` and its parents, up to the shared /tmp.

    oslotest gives each test a private temp root (NestedTempfile); only
    directories owned by this user, below a sticky one, are touched.
    """
    directory = os.path.realpath(directory)
    while directory != os.sep:
        info = os.stat(directory)
        if info.st_uid != os.geteuid() or info.st_mode & stat.S_ISVTX:
            break
        os.chmod(directory, info.st_mode | stat.S_IXOTH)
        directory = os.path.dirname(directory)


class ApacheServer(server_fixture.Server):
    """``apache2 -DFOREGROUND`` on a ServerRoot of its own, on a free port."""

    name = 'apache2'

    def _setUp(self):
        if os.geteuid() == 0:
            # The daemon processes write the state directory as www-data.
            account = pwd.getpwnam(APACHE_USER)
            self.user, self.group = APACHE_USER, grp.getgrgid(
                account.pw_gid).gr_name
            os.chown(self.state_path, account.pw_uid, account.pw_gid)
        else:
            self.user = pwd.getpwuid(os.getuid()).pw_name
            self.group = grp.getgrgid(os.getgid()).gr_name
        super()._setUp()

    def command(self, port):
        root = self.log_dir
        # The daemon user connects to the mod_wsgi socket and reads the
        # script and config file in here; the test's temp directories that
        # hold it (and state_path) are private to their owner.
        os.chmod(root, 0o755)
        _let_others_search(os.path.dirname(root))
        self.env['OS_IMAGEAPI_CONFIG_FILE'] = server_fixture.write_config_file(
            root, self.state_path)
        script = os.path.join(root, 'imageapi.wsgi')
        with open(script, 'w') as wsgi:
            wsgi.write(_WSGI_SCRIPT)
        os.chmod(script, 0o644)
        self.chosen_port = port or free_port()
        user_lines = ''
        if os.geteuid() == 0:
            user_lines = 'User %s\nGroup %s' % (self.user, self.group)
        conf = os.path.join(root, 'httpd.conf')
        with open(conf, 'w') as httpd:
            httpd.write(_HTTPD_CONF.format(
                root=root, modules=APACHE_MODULES, user_lines=user_lines,
                port=self.chosen_port, venv=sys.prefix, user=self.user,
                group=self.group, site=APACHE_SITE))
        apache = shutil.which('apache2', path=os.environ.get('PATH', '') +
                              ':/usr/sbin:/sbin')
        return [apache, '-f', conf, '-DFOREGROUND']

    def listening_address(self):
        """Apache prints nothing when it listens: try to connect."""
        try:
            socket.create_connection(('127.0.0.1', self.chosen_port),
                                     timeout=1).close()
        except OSError:
            return None
        return '127.0.0.1', self.chosen_port

    def log(self):
        """Apache's own log, then the site's error log (the app's output)."""
        text = super().log()
        path = os.path.join(self.log_dir, 'imageapi-error.log')
        if os.path.exists(path):
            with open(path, 'rb') as log:
                text += log.read().decode('utf-8', 'replace')
        return text


class GunicornConfServer(server_fixture.Server):
    """``gunicorn -c etc/gunicorn.conf.py imageapi.wsgi:application``."""

    name = 'gunicorn'
    listening = server_fixture.GunicornServer.listening

    def command(self, port):
        self.env['OS_IMAGEAPI_CONFIG_FILE'] = server_fixture.write_config_file(
            self.log_dir, self.state_path)
        return [server_fixture.gunicorn_command(), '-c', GUNICORN_CONF,
                '--bind', '127.0.0.1:%d' % port, '--workers',
                str(self.workers), 'imageapi.wsgi:application']
