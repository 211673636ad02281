"""DiscoveryController: GET /v2/info/usage, the caller's project usage and limits."""

from imageapi.common import wsgi


class DiscoveryController:

    def __init__(self, limits):
        self.limits = limits

    def usage(self, req, ctx):
        """Glance's shape: {"usage": {name: {"limit": L, "usage": U}}}.

        Empty when keystone limits are off (glance/api/v2/discovery.py).
        """
        return wsgi.json_response(
            {'usage': self.limits.usage(ctx, ctx.project_id)})
