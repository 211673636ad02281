"""gunicorn entry point for keystone, used by tools/keystone/start-keystone.sh.

keystone parses ``sys.argv`` with oslo.config when its WSGI module is imported, and
would reject gunicorn's own arguments; the worker imports this module instead. The
configuration comes from ``OS_KEYSTONE_CONFIG_FILES``.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401,H306
