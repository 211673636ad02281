"""Policy rules of the tasks API, with Glance's names and defaults.

``tasks_api_access`` (admin) guards every /v2/tasks call; the per-call rules are
Glance's empty defaults, checked too so that a policy file may narrow them.
"""

from oslo_policy import policy

from imageapi.policies import base

_TASKS = '/v2/tasks'
_TASK = '/v2/tasks/{task_id}'
_SCOPE = ['project']

rules = [
    policy.DocumentedRuleDefault(
        name='get_task', check_str=base.DEFAULT, scope_types=_SCOPE,
        description='Show a task (after tasks_api_access).',
        operations=[{'path': _TASK, 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='get_tasks', check_str=base.DEFAULT, scope_types=_SCOPE,
        description='List tasks (after tasks_api_access).',
        operations=[{'path': _TASKS, 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='add_task', check_str=base.DEFAULT, scope_types=_SCOPE,
        description='Create a task (after tasks_api_access).',
        operations=[{'path': _TASKS, 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name='tasks_api_access', check_str=base.ADMIN, scope_types=_SCOPE,
        description='Any call of the tasks API. Import tasks of an image '
                    'are also listed by GET /v2/images/{image_id}/tasks, '
                    'which get_image guards instead.',
        operations=[{'path': _TASK, 'method': 'GET'},
                    {'path': _TASKS, 'method': 'GET'},
                    {'path': _TASKS, 'method': 'POST'}]),
]


def list_rules():
    return rules
