"""WSGI entry for mod_wsgi, uWSGI or gunicorn: ``imageapi.wsgi:application``.

Config files are found as Glance finds its own: ``OS_IMAGEAPI_CONFIG_FILE`` names one
file, otherwise ``OS_IMAGEAPI_CONFIG_DIR`` (default /etc/imageapi) holds imageapi.conf
and an optional imageapi.conf.d/. The app is built on the first request, once per
process, so importing this module has no side effects. Under gunicorn
(``gunicorn -c etc/gunicorn.conf.py``) image bodies take the same readers as under
``imageapi-api`` (imageapi/cmd/gunicorn_input.py); other servers keep their own input.
"""

import os
import threading


from imageapi.cmd import gunicorn_input
from imageapi.common import config
from imageapi.db import api as db_api
from imageapi.db import migration
from imageapi import service


def init_application():
    """Parse config, check the schema and load the paste app."""
    conf = config.new_conf()
    config_file = os.environ.get(config.CONFIG_FILE_ENV)
    config_dir = os.environ.get(config.CONFIG_DIR_ENV, '/etc/imageapi')
    if config_file:
        files = [config_file]
    else:
        candidate = os.path.join(config_dir, 'imageapi.conf')
        files = [candidate] if os.path.exists(candidate) else []
    conf_d = os.path.join(config_dir, 'imageapi.conf.d')
    dirs = [conf_d] if os.path.isdir(conf_d) else []
    config.parse_args([], conf, default_config_files=files,
                      default_config_dirs=dirs)
    config.setup_logging(conf)
    # Schema first: the start-up step starts threads that query the database.
    db_api.configure(conf)
    migration.ensure_schema(conf)
    app = config.load_paste_app(conf, service.start(conf))
    # A pass-through under any server but gunicorn: the same body handling
    # (fast readers, upload idle timeout, chunked framing errors as 400)
    # for plain gunicorn as for imageapi-api.
    return gunicorn_input.FastInput(
        app, idle_timeout=conf.upload.body_idle_timeout)


class _Application:
    """Builds the app on first use, under a lock, then delegates to it."""

    def __init__(self):
        self._app = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = init_application()
        return self._app(environ, start_response)


application = _Application()
