"""Build ``req.environ['imageapi.context']`` from the identity of the request.

``ContextMiddleware`` trusts only what keystonemiddleware's auth_token set (401 when the
token was not confirmed); ``NoAuthMiddleware`` is the embedded default's stand-in.
``LogContextMiddleware``, near the front of every pipeline, gives each request's log
lines its own request id and no identity until one is established, and drops the
identity again when the request ends.
"""

import json

from imageapi.common import exception
from imageapi.common import wsgi
from imageapi import context

ENV_KEY = 'imageapi.context'


def get_context(req):
    return req.environ[ENV_KEY]


# Keystone's default implied roles: a token with admin also carries member
# and reader, one with member also reader. The policy rules rely on it.
_IMPLIED_ROLES = {'admin': ('member', 'reader'), 'member': ('reader',)}


def _roles(header):
    roles = [r.strip() for r in (header or '').split(',') if r.strip()]
    for role in list(roles):
        roles += [r for r in _IMPLIED_ROLES.get(role, ()) if r not in roles]
    return roles


class LogContextMiddleware(wsgi.Middleware):
    """Each request starts and ends with an anonymous context of its own.

    oslo.log takes the context of a log line from the thread (oslo.context's
    current context), which a RequestContext with ``overwrite`` sets and
    nothing clears. Without this, a line logged before the request has an
    identity (auth_token's "Authorization failed for token") carried the
    user, project and request id of the thread's previous request.
    """

    def __call__(self, environ, start_response):
        _anonymous(environ)
        try:
            return self.application(environ, start_response)
        finally:
            _anonymous(environ)


def _anonymous(environ):
    # overwrite=True makes it the thread's current context.
    context.RequestContext(request_id=environ.get('openstack.request_id'),
                           overwrite=True)


class ContextMiddleware(wsgi.Middleware):
    """Context from auth_token's headers; 401 unless the token was valid.

    auth_token has removed every identity header the client sent and set
    its own (user, project, roles, system scope), so they can be trusted.
    is_admin is the policy's context_is_admin rule (api/router.py).
    """

    def process_request(self, req):
        if req.headers.get('X-Identity-Status') != 'Confirmed':
            raise exception.NotAuthenticated()
        ctx = context.RequestContext.from_environ(req.environ)
        ctx.service_catalog = _catalog(req.headers.get('X-Service-Catalog'))
        req.environ[ENV_KEY] = ctx
        return None


def _catalog(header):
    """auth_token's X-Service-Catalog (JSON, set by it alone), or []."""
    try:
        catalog = json.loads(header) if header else []
    except ValueError:
        return []
    return catalog if isinstance(catalog, list) else []


class NoAuthMiddleware(wsgi.Middleware):
    """Context without authentication, for the embedded default only.

    X-Project-Id, X-User-Id and X-Roles are taken as given, with
    keystone's implied roles added; without X-Roles the caller is admin,
    as Glance's unauthenticated context is.
    """

    def process_request(self, req):
        roles = _roles(req.headers.get('X-Roles') or 'admin')
        ctx = context.RequestContext(
            user_id=req.headers.get('X-User-Id'),
            project_id=req.headers.get('X-Project-Id')
            or req.headers.get('X-Tenant-Id'),
            roles=roles,
            request_id=req.environ.get('openstack.request_id'),
            overwrite=True)
        req.environ[ENV_KEY] = ctx
        return None


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        return ContextMiddleware(app)
    return _filter


def log_context_filter_factory(global_conf, **local_conf):
    def _filter(app):
        return LogContextMiddleware(app)
    return _filter


def noauth_filter_factory(global_conf, **local_conf):
    def _filter(app):
        return NoAuthMiddleware(app)
    return _filter
