"""The oslo.policy Enforcer of imageapi and the targets the API checks rules against.

api/router.py builds one ``Enforcer`` per app from the app's ConfigOpts; controllers call
``authorize`` before they act. The defaults are imageapi/policies (Glance's secure RBAC);
``[oslo_policy] policy_file`` overrides them. ``get_enforcer`` is the
``oslo.policy.enforcer`` entry point for oslopolicy-policy-generator and friends.
"""

import collections.abc
import functools
import inspect
import time

from oslo_config import cfg
from oslo_policy import _checks
from oslo_policy import policy

from imageapi.common import exception
from imageapi import policies


class _SignatureCache:
    """``inspect`` as oslo.policy's check evaluation uses it, memoized.

    oslo_policy._checks._check calls inspect.getfullargspec on the check's
    ``__call__`` every time it evaluates one, to learn whether it takes
    ``current_rule``: four of them cost a tenth of a show request. A
    function's signature does not change while the process runs, so it
    is looked up once per function (checks themselves are unhashable).
    """

    def __getattr__(self, name):
        return getattr(inspect, name)

    @staticmethod
    def getfullargspec(func):
        return _argspec(getattr(func, '__func__', func))


_argspec = functools.lru_cache(maxsize=512)(inspect.getfullargspec)
if getattr(_checks, 'inspect', None) is inspect:
    _checks.inspect = _SignatureCache()


class Enforcer(policy.Enforcer):
    """oslo.policy's Enforcer with imageapi's rules and exceptions."""

    # oslo.policy looks for the policy file and its directories on every
    # check (several stat calls; a tenth of a show request). Changes are
    # still picked up, within this many seconds.
    reload_check_seconds = 1.0

    def __init__(self, conf):
        super().__init__(conf, use_conf=True, overwrite=False)
        # NOTE: every default differs from the legacy "rule:default"; as in
        # Glance, warning once per rule would only flood the log.
        self.suppress_default_change_warnings = True
        self.register_defaults(policies.list_rules())
        self._next_reload_check = 0.0

    def load_rules(self, force_reload=False):
        now = time.monotonic()
        if force_reload or not self.rules or now >= self._next_reload_check:
            super().load_rules(force_reload)
            self._next_reload_check = now + self.reload_check_seconds

    def check(self, context, action, target):
        """True when ``context`` may do ``action`` on ``target``."""
        try:
            return bool(self.enforce(action, target, context))
        except policy.InvalidScope:
            return False

    def authorize(self, context, action, target):
        """Raise Forbidden (403) unless ``context`` may do ``action``."""
        if not self.check(context, action, target):
            raise exception.Forbidden(action=action)

    def authorize_image(self, context, action, target):
        """As authorize, but 404 when the caller may not even get the image.

        Glance answers 404, not 403, for an image the caller cannot see,
        so that its existence does not leak (glance/api/v2/policy.py
        ``ImageAPIPolicy._enforce``).
        """
        if self.check(context, action, target):
            return
        if action == 'get_image' or not self.check(context, 'get_image',
                                                   target):
            raise exception.ImageNotFound(image_id=target['id'])
        raise exception.Forbidden(action=action)

    def authorize_namespace(self, context, action, target, name):
        """As authorize_image, for a metadata definition namespace.

        A caller that may not even get the namespace learns nothing of it:
        404 (glance/api/v2/policy.py ``MetadefAPIPolicy._enforce``).
        """
        if self.check(context, action, target):
            return
        if action == 'get_metadef_namespace' or not self.check(
                context, 'get_metadef_namespace', target):
            raise exception.MetadefNamespaceNotFound(namespace=name)
        raise exception.Forbidden(action=action)

    def overridden(self, action):
        """True when the policy file sets ``action`` (reloaded if changed)."""
        self.load_rules()
        return action in self.file_rules

    def is_admin(self, context):
        """The context_is_admin rule, checked against the context itself."""
        return self.check(context, 'context_is_admin', context.to_dict())


class ImageTarget(collections.abc.Mapping):
    """An image as policy rules see it: its fields and extra properties.

    ``project_id`` is the owner; ``member_id`` is ``member`` when given,
    else the caller's project if the image is shared with it (looked up
    only when a rule asks, through ``member_lookup``), else None.
    """

    def __init__(self, image, member=None, member_lookup=None):
        self._values = dict(image['properties'])
        self._values.update(
            (key, value) for key, value in image.items()
            if key not in ('properties', 'locations'))
        self._values['project_id'] = image['owner']
        self._values['image_id'] = image['id']
        self._member = member
        self._member_lookup = member_lookup

    def __getitem__(self, key):
        if key == 'member_id':
            if self._member is None and self._member_lookup is not None:
                self._member = self._member_lookup()
                self._member_lookup = None
            return self._member
        return self._values[key]

    def __iter__(self):
        yield from self._values
        yield 'member_id'

    def __len__(self):
        return len(self._values) + 1


def new_image_target(owner, visibility):
    """The target of add_image, publicize_image and communitize_image."""
    return {'project_id': owner, 'owner': owner, 'visibility': visibility,
            'member_id': None}


_GENERATOR_ENFORCER = None


def get_enforcer():
    """An Enforcer on imageapi's default config files, for the oslopolicy tools.

    The tools call this with no arguments (the ``oslo.policy.enforcer``
    entry point); the running service never does.
    """
    global _GENERATOR_ENFORCER
    if _GENERATOR_ENFORCER is None:
        conf = cfg.ConfigOpts()
        conf([], project='imageapi')
        _GENERATOR_ENFORCER = Enforcer(conf)
    return _GENERATOR_ENFORCER
