"""Serve oslo.middleware's healthcheck app at /healthcheck, ahead of everything else.

oslo's Healthcheck is deployed as an app; this filter puts it first in a pipeline so
load balancers get an answer without a token. ``DatabaseCheck`` is the healthcheck
backend ``imageapi_database`` (setup.cfg): the check answers 503 while the database
cannot be reached.
"""

from oslo_middleware import healthcheck
from oslo_middleware.healthcheck import pluginbase

from imageapi.db import api as db_api

PATH = '/healthcheck'


class DatabaseCheck(pluginbase.HealthcheckBaseExtension):
    """Healthy while a pooled database connection answers ``SELECT 1``."""

    def healthcheck(self, server_port):
        try:
            db_api.ping()
        except Exception as exc:
            return pluginbase.HealthcheckResult(
                available=False, reason='Database unreachable',
                details=type(exc).__name__)
        return pluginbase.HealthcheckResult(available=True,
                                            reason='Database OK')


class HealthcheckFilter:

    def __init__(self, app, health_app):
        self.application = app
        self.health_app = health_app

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '').rstrip('/') == PATH:
            return self.health_app(environ, start_response)
        return self.application(environ, start_response)


def filter_factory(global_conf, **local_conf):
    options = {k: v for k, v in local_conf.items()
               if k in ('backends', 'disable_by_file_path', 'detailed')}
    health_app = healthcheck.Healthcheck.app_factory({}, **options)

    def _filter(app):
        return HealthcheckFilter(app, health_app)
    return _filter
