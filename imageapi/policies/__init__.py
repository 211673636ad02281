"""Default policy rules of imageapi: Glance's secure-RBAC defaults, rule for rule.

``list_rules()`` is the ``oslo.policy.policies`` entry point, read by imageapi/policy.py
and by oslopolicy-sample-generator; an operator's policy file overrides any rule by name.
"""

import itertools

from imageapi.policies import base
from imageapi.policies import cache
from imageapi.policies import image
from imageapi.policies import member
from imageapi.policies import metadef
from imageapi.policies import task


def list_rules():
    return list(itertools.chain(base.list_rules(), image.list_rules(),
                                cache.list_rules(),
                                member.list_rules(),
                                metadef.list_rules(), task.list_rules()))
