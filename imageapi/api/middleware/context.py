"""Build ``req.environ['imageapi.context']`` from the identity of the request.

``ContextMiddleware`` trusts only what keystonemiddleware's auth_token set (401 when the
token was not confirmed); ``NoAuthMiddleware`` is the embedded default's stand-in.
"""

from imageapi.common import exception
from imageapi.common import wsgi
from imageapi import context

ENV_KEY = 'imageapi.context'


def get_context(req):
    return req.environ[ENV_KEY]


def _roles(header):
    return [r.strip() for r in (header or '').split(',') if r.strip()]


class ContextMiddleware(wsgi.Middleware):
    """Context from auth_token's headers; 401 unless the token was valid."""

    def process_request(self, req):
        if req.headers.get('X-Identity-Status') != 'Confirmed':
            raise exception.NotAuthenticated()
        ctx = context.RequestContext.from_environ(req.environ)
        ctx.is_admin = 'admin' in ctx.roles
        req.environ[ENV_KEY] = ctx
        return None


class NoAuthMiddleware(wsgi.Middleware):
    """Context without authentication, for the embedded default only.

    X-Project-Id, X-User-Id and X-Roles are taken as given; without
    X-Roles the caller is admin, as Glance's unauthenticated context is.
    """

    def process_request(self, req):
        roles = _roles(req.headers.get('X-Roles')) or ['admin']
        ctx = context.RequestContext(
            user_id=req.headers.get('X-User-Id'),
            project_id=req.headers.get('X-Project-Id')
            or req.headers.get('X-Tenant-Id'),
            roles=roles, is_admin='admin' in roles,
            request_id=req.environ.get('openstack.request_id'),
            overwrite=False)
        req.environ[ENV_KEY] = ctx
        return None


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        return ContextMiddleware(app)
    return _filter


def noauth_filter_factory(global_conf, **local_conf):
    def _filter(app):
        return NoAuthMiddleware(app)
    return _filter
