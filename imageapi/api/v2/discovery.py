"""DiscoveryController: GET /v2/info/usage (the caller's usage and limits), /v2/info/stores."""

from imageapi.common import exception
from imageapi.common import wsgi


class DiscoveryController:

    def __init__(self, limits, stores, enforcer):
        self.limits = limits
        self.backends = stores
        self.enforcer = enforcer

    def _store_list(self, detail):
        if not self.backends.multi:
            raise exception.MultiStoreDisabled()
        listed = []
        for store in self.backends:
            entry = {'id': store.id}
            if store.description:
                entry['description'] = store.description
            if store is self.backends.default:
                entry['default'] = 'true'  # a string, as Glance sends it
            if detail:
                entry.update(type=store.type, weight=store.weight,
                             properties=store.driver.properties())
            listed.append(entry)
        return wsgi.json_response({'stores': listed})

    def stores(self, req, ctx):
        """The enabled stores (multi-store only; 404 otherwise)."""
        return self._store_list(detail=False)

    def stores_detail(self, req, ctx):
        """The stores with type, weight and properties, for admins."""
        self.enforcer.authorize(ctx, 'stores_info_detail', {})
        return self._store_list(detail=True)

    def usage(self, req, ctx):
        """Glance's shape: {"usage": {name: {"limit": L, "usage": U}}}.

        Empty when keystone limits are off (glance/api/v2/discovery.py).
        """
        return wsgi.json_response(
            {'usage': self.limits.usage(ctx, ctx.project_id)})
