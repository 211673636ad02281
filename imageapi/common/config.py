"""Config file parsing and paste app loading, shared by imageapi-api and the WSGI entry."""

import os
import sys
import threading
import weakref

from oslo_config import cfg
from oslo_log import log as logging
from paste import deploy

from imageapi import conf as imageapi_conf
from imageapi import version

CONFIG_DIR_ENV = 'OS_IMAGEAPI_CONFIG_DIR'
CONFIG_FILE_ENV = 'OS_IMAGEAPI_CONFIG_FILE'
_PASTE_NAME = 'imageapi-paste.ini'
# The paste file ships as data_files (<prefix>/etc/imageapi) and sits in
# etc/ of a source checkout.
_SHIPPED_PASTE = (
    os.path.join(sys.prefix, 'etc', 'imageapi', _PASTE_NAME),
    os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), 'etc', _PASTE_NAME),
)


def new_conf():
    """A fresh ConfigOpts with every imageapi and oslo.log option registered."""
    conf = cfg.ConfigOpts()
    imageapi_conf.register_opts(conf)
    logging.register_options(conf)
    return conf


# Logged at INFO on every start otherwise (alembic's plugin loader).
_QUIET_LOGGERS = ['alembic.runtime.plugins=WARN']


def parse_args(argv, conf, default_config_files=None, default_config_dirs=None,
               prog='imageapi', description=None):
    """Parse ``argv`` (without the program name) into ``conf``.

    oslo.config also reads the OS_<GROUP>__<OPTION> environment variables,
    so ``OS_DEFAULT__STATE_PATH=/tmp/x`` isolates an instance.

    :raises SystemExit: a config file is missing or unreadable: one line
        naming it, exit status 1, no traceback.
    """
    try:
        conf(argv, project='imageapi', prog=prog, description=description,
             version=version.version_info.version_string(),
             default_config_files=default_config_files,
             default_config_dirs=default_config_dirs)
    except (cfg.ConfigFilesNotFoundError, cfg.ConfigFileParseError,
            cfg.ConfigFileValueError) as exc:
        raise SystemExit('%s: %s' % (prog, exc))
    os.makedirs(conf.state_path, mode=0o750, exist_ok=True)


def setup_logging(conf):
    """oslo.log from ``conf`` (--debug, --log-file, ...), alembic quiet."""
    logging.set_defaults(default_log_levels=(
        logging.get_default_log_levels() + _QUIET_LOGGERS))
    logging.setup(conf, 'imageapi')


def find_paste_config(conf):
    """The paste file: [paste_deploy] config_file, then next to the config."""
    if conf.paste_deploy.config_file:
        return os.path.abspath(conf.paste_deploy.config_file)
    candidates = [os.path.join(os.path.dirname(f), _PASTE_NAME)
                  for f in conf.config_file]
    candidates += [os.path.join(d, _PASTE_NAME) for d in conf.config_dir or []
                   if d]
    candidates += ['/etc/imageapi/' + _PASTE_NAME]
    candidates += _SHIPPED_PASTE
    for path in candidates:
        if os.path.exists(path):
            return os.path.abspath(path)
    raise RuntimeError('No %s found; set [paste_deploy] config_file.'
                       % _PASTE_NAME)


# paste.deploy passes global_conf values through ConfigParser, so only a
# string key can travel to the factories; it names the ConfigOpts here.
_LOADED_CONFS = weakref.WeakValueDictionary()


_LOADED_SERVICES = {}


def load_paste_app(conf, service, name=None):
    """Load pipeline ``imageapi-<flavor>`` of the paste file, bound to ``conf``.

    Factories get ``conf`` back with ``conf_from_paste(global_conf)`` and the
    process's ``service`` (imageapi/service.py, from its start-up step) with
    ``service_from_paste``, so no module-level ConfigOpts is needed.
    """
    name = name or 'imageapi-%s' % conf.paste_deploy.flavor
    path = find_paste_config(conf)
    key = str(id(conf))
    _LOADED_CONFS[key] = conf
    _LOADED_SERVICES[key] = service
    try:
        return deploy.loadapp('config:%s' % path, name=name,
                              global_conf={'imageapi_conf': key})
    finally:
        del _LOADED_SERVICES[key]


def conf_from_paste(global_conf):
    """The ConfigOpts that load_paste_app() was called with."""
    return _LOADED_CONFS[global_conf['imageapi_conf']]


def service_from_paste(global_conf):
    """The Service that load_paste_app() was called with."""
    return _LOADED_SERVICES[global_conf['imageapi_conf']]


_GLOBAL_CONF_LOCK = threading.Lock()
_global_conf_files = None


def load_global_conf(conf):
    """Parse the global ``cfg.CONF`` from the files ``conf`` was read from.

    For libraries that read only the global object (oslo.limit, with
    keystoneauth's dynamic options); once per process and set of files.
    """
    global _global_conf_files
    files = (tuple(conf.config_file or ()), tuple(conf.config_dir or ()))
    with _GLOBAL_CONF_LOCK:
        if _global_conf_files == files:
            return
        args = []
        for path in files[0]:
            args += ['--config-file', path]
        for path in files[1]:
            args += ['--config-dir', path]
        cfg.CONF(args, project='imageapi', default_config_files=[],
                 default_config_dirs=[])
        _global_conf_files = files
