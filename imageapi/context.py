"""RequestContext: who is calling, plus the DB session slot oslo.db's enginefacade fills."""

from oslo_context import context
from oslo_db.sqlalchemy import enginefacade


@enginefacade.transaction_context_provider
class RequestContext(context.RequestContext):
    """oslo.context RequestContext that db.api decorators attach sessions to.

    ``service_catalog`` is the caller's keystone catalog (the list
    keystonemiddleware's auth_token puts in X-Service-Catalog), or [];
    glance-download finds the other region's Image API in it.
    """

    def __init__(self, *args, service_catalog=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_catalog = service_catalog or []

    @property
    def owner(self):
        """The project that owns what this caller creates."""
        return self.project_id


def get_admin_context():
    """A context with admin rights and no identity, for commands and reapers."""
    return RequestContext(is_admin=True, overwrite=False)
