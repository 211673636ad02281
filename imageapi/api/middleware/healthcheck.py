"""Serve oslo.middleware's healthcheck app at /healthcheck, ahead of everything else.

oslo's Healthcheck is deployed as an app; this filter puts it first in a pipeline so
load balancers get an answer without a token and without touching the database.
"""

from oslo_middleware import healthcheck

PATH = '/healthcheck'


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
