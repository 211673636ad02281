"""The oslo.policy Enforcer of imageapi and the targets the API checks rules against.

api/router.py builds one ``Enforcer`` per app from the app's ConfigOpts; controllers call
``authorize`` before they act. The defaults are imageapi/policies (Glance's secure RBAC);
``[oslo_policy] policy_file`` overrides them. ``get_enforcer`` is the
``oslo.policy.enforcer`` entry point for oslopolicy-policy-generator and friends.
"""

import collections.abc
import threading
import time

from oslo_config import cfg
from oslo_policy import policy

from imageapi.common import exception
from imageapi import policies


class Enforcer(policy.Enforcer):
    """oslo.policy's Enforcer with imageapi's rules and exceptions."""

    # oslo.policy looks for the policy file and its directories on every
    # check (several stat calls; a tenth of a show request). Changes are
    # still picked up, within this many seconds.
    reload_check_seconds = 1.0

    def __init__(self, conf):
        self._results = _Results()
        self._rules_seen = {}
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
            # oslo.policy also changes self.rules in place; results are
            # kept only as long as every rule is the same object.
            rules = dict(self.rules)
            if (rules.keys() != self._rules_seen.keys()
                    or any(check is not self._rules_seen[name]
                           for name, check in rules.items())):
                self._rules_seen = rules
                self._results = _Results()

    def set_rules(self, rules, overwrite=True, use_conf=False):
        super().set_rules(rules, overwrite=overwrite, use_conf=use_conf)
        self._results = _Results()

    def check(self, context, action, target):
        """True when ``context`` may do ``action`` on ``target``.

        Results are kept (see _Results): oslo.policy looks up the signature
        of every check it evaluates, and the checks of one rule cost tens
        of microseconds, more than the rest of a show request's policy work.
        """
        self.load_rules()
        results = self._results
        try:
            key = (action, _creds_key(context))
            hash(key)
        except (AttributeError, TypeError):
            # Not a RequestContext, or a value that cannot be a dict key.
            return self._enforce(context, action, target)
        result = results.get(key, target)
        if result is _NOT_KEPT:
            reads = _ReadKeys(target)
            result = self._enforce(context, action, reads)
            if not reads.whole:
                results.put(key, reads.read, result)
        return result

    def _enforce(self, context, action, target):
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
        self._authorize_seen(context, action, target, 'get_image',
                             lambda: exception.ImageNotFound(
                                 image_id=target['id']))

    def authorize_namespace(self, context, action, target, name):
        """As authorize_image, for a metadata definition namespace.

        glance/api/v2/policy.py ``MetadefAPIPolicy._enforce``.
        """
        self._authorize_seen(context, action, target,
                             'get_metadef_namespace',
                             lambda: exception.MetadefNamespaceNotFound(
                                 namespace=name))

    def _authorize_seen(self, context, action, target, get_action,
                        not_found):
        """403 for ``action``, or ``not_found()`` if even getting is denied."""
        if self.check(context, action, target):
            return
        if action == get_action or not self.check(context, get_action,
                                                  target):
            raise not_found()
        raise exception.Forbidden(action=action)

    def overridden(self, action):
        """True when the policy file sets ``action`` (reloaded if changed)."""
        self.load_rules()
        return action in self.file_rules

    def is_admin(self, context):
        """The context_is_admin rule, checked against the context itself."""
        return self.check(context, 'context_is_admin', context.to_dict())


_NOT_KEPT = object()


def _creds_key(context):
    """The policy values of ``context``, as a dict key (types included)."""
    return tuple(
        (name, type(value), tuple(value) if type(value) is list else value)
        for name, value in context.to_policy_values().items())


def _value_key(value):
    # True == 1, but "%(x)s" formats them differently.
    return (type(value), value)


class _ReadKeys(collections.abc.Mapping):
    """A policy target that notes what a check reads of it, in order.

    ``whole`` is set when something walks the whole target (oslo.policy's
    debug log, the http: and https: checks): the result then depends on
    more than the keys read, or on a remote service, and is not kept.
    """

    def __init__(self, target):
        self._target = target
        self.read = []
        self.whole = False

    def __getitem__(self, key):
        try:
            value = self._target[key]
        except KeyError:
            self.read.append((key, _NOT_KEPT))
            raise
        self.read.append((key, value))
        return value

    def __iter__(self):
        self.whole = True
        return iter(self._target)

    def __len__(self):
        self.whole = True
        return len(self._target)


class _Read:
    """A node of _Results: the next target key the rule reads."""

    __slots__ = ('key', 'children')

    def __init__(self, key):
        self.key = key
        self.children = {}


class _Results:
    """Check results by (rule, credentials), then by the target values read.

    A check's result depends only on the rules, the credentials and the
    target values it reads, and it reads them in an order fixed by those
    values. So each (rule, credentials) has a tree: a node names the next
    key read, its children are keyed by the value found, a leaf holds the
    result. A lookup reads just the keys the evaluation would have read
    (member_id, which can cost a query, only when the rule gets to it), so
    one entry answers for every image whose owner, say, is the caller's.
    A new instance is made whenever the rules change.
    """

    LIMIT = 10000   # leaves; past it, start over

    def __init__(self):
        self._roots = {}
        self._leaves = 0
        self._lock = threading.Lock()

    def get(self, key, target):
        node = self._roots.get(key, _NOT_KEPT)
        while type(node) is _Read:
            try:
                value = target[node.key]
            except KeyError:
                value = _NOT_KEPT
            try:
                node = node.children.get(_value_key(value), _NOT_KEPT)
            except TypeError:
                return _NOT_KEPT  # a value that cannot be a dict key
        return node

    def put(self, key, reads, result):
        with self._lock:
            if self._leaves >= self.LIMIT:
                self._roots, self._leaves = {}, 0
            children, slot = self._roots, key
            try:
                for name, value in reads:
                    node = children.setdefault(slot, _Read(name))
                    if type(node) is not _Read or node.key != name:
                        return  # another path than last time: keep none
                    children, slot = node.children, _value_key(value)
                if slot not in children:
                    children[slot] = result
                    self._leaves += 1
            except TypeError:
                pass  # a value that cannot be a dict key


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
