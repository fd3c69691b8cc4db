"""Schemathesis hooks for fuzzing a real cluster shared with other tests (tests/integration/test_zz_schemathesis.py;
also for a manual run, see the README).  Loaded with SCHEMATHESIS_HOOKS=tests.integration.schemathesis_hooks.

Two kinds, nothing else:
- Known values: path parameters drawn from what the cluster has, part of the time (CALAMARI_FUZZ_KNOWN).
- Safety: the fuzzer leaves alone what the cluster needs after the run (the pools, CRUSH items and rules, users
  and hosts that existed before it; those it made itself it may change and delete).  CALAMARI_FUZZ_PROTECT names
  them (JSON: {"user_id": [...], "pool_id": [...], "node_id": [...], "rule_id": [...], "fqdn": [...],
  "item_id": [...]}).
- Failures that are not the API's fault, each named with the reason (``filter_failure``): the API is right there,
  the tool cannot know it.  Every check stays on for everything else.
"""
import ast
import json
import os
import re
import sys
import threading
from typing import Any, Dict, List

import schemathesis
from hypothesis import strategies as st

# Not about the API: CPython before 3.11.5 (Debian 12 has 3.11.2) fails with "AST constructor recursion depth
# mismatch" when two threads parse Python source at once (CPython gh-106905), and Hypothesis parses lambdas to
# describe strategies in every schemathesis worker.  One parse at a time.
_AST_PARSE = ast.parse
_AST_LOCK = threading.Lock()


def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _AST_LOCK:
        return _AST_PARSE(*args, **kwargs)


ast.parse = _parse_one_at_a_time

if sys.version_info < (3, 11, 5):
    # The lock is not enough on 3.11.2 (the mismatch was still seen on a quiet machine, in the repr of a recursive
    # strategy): Hypothesis parses a lambda's source only to describe it, so there it is described by name alone.
    from hypothesis.internal import lambda_sources

    def _describe_without_parsing(f: Any) -> str:
        return f'lambda <{getattr(f, "__qualname__", "?")}>'

    lambda_sources.lambda_description = _describe_without_parsing

PROTECT: Dict[str, List[str]] = {k: [str(v) for v in vs]
                                 for k, vs in json.loads(os.environ.get('CALAMARI_FUZZ_PROTECT') or '{}').items()}

# Known values (CALAMARI_FUZZ_KNOWN, JSON: {"fsid": [...], "osd_id": [...], ...}): the fuzzing and stateful phases
# draw each path parameter from what the cluster has, or keep the generated value, with equal chances per value (an
# fsid made up at random names no cluster: nearly every case under cluster/{fsid} would meet only the 404).
KNOWN: Dict[str, List[str]] = {k: [str(v) for v in vs]
                               for k, vs in json.loads(os.environ.get('CALAMARI_FUZZ_KNOWN') or '{}').items()}


@schemathesis.hook
def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
    def with_known(parameters: Any) -> Any:
        if not isinstance(parameters, dict) or not any(KNOWN.get(name) for name in parameters):
            return st.just(parameters)
        return st.fixed_dictionaries({name: st.sampled_from([value] + KNOWN.get(name, []))
                                      for name, value in parameters.items()})
    return strategy.flatmap(with_known)


# Operations that change or delete what their path names: the path parameter, and the methods.
# The users of before the run (the test's admin among them) are not changed either: a new password would end their
# sessions, a new role or name would break the restore and the tests after it.
GUARDED = {'user_id': ('PATCH', 'PUT', 'DELETE'), 'pool_id': ('PATCH', 'DELETE'), 'node_id': ('PATCH', 'DELETE'),
           'rule_id': ('PATCH', 'DELETE'), 'fqdn': ('DELETE',), 'minion_id': ('PATCH', 'DELETE')}

# positive_data_acceptance: schema-valid bodies or queries the API refuses with a 400 because of the cluster's
# state or a rule across fields, which JSON Schema cannot say.  Per operation (method, path), the 400 messages
# that mean exactly that; any other 400 to schema-valid data still fails the run.
STATE_400 = {
    ('POST', '/api/v2/cluster/{fsid}/pool'): r'must be >= to pg_num|CRUSH ruleset \d+ not found|current limit of',
    ('PATCH', '/api/v2/cluster/{fsid}/pool/{pool_id}'):
        r'must be >= to pg_num|must be >= than current|CRUSH ruleset \d+ not found|current limit of|'
        r'Not allowed during PATCH',    # size of an erasure-coded pool
    ('PATCH', '/api/v2/cluster/{fsid}/osd/{osd_id}'): r'is down: an OSD cannot be marked up',
    ('POST', '/api/v2/cluster/{fsid}/crush_node'):
        r'is not one of the available choices|is listed twice|Item -?\d+ is this bucket',
    ('PATCH', '/api/v2/cluster/{fsid}/crush_node/{node_id}'):
        r'is not one of the available choices|is listed twice|Item -?\d+ is this bucket|Changing the type',
    ('POST', '/api/v2/cluster/{fsid}/crush_rule'):
        r'must name an existing CRUSH bucket|type must be one of|min_size is less than or equal|crushtool',
    ('PATCH', '/api/v2/cluster/{fsid}/crush_rule/{rule_id}'):
        r'must name an existing CRUSH bucket|type must be one of|min_size is less than or equal|crushtool',
    ('PATCH', '/api/v2/key'): r'Bulk PATCH lists the same id|Transition \w+->\w+ is invalid',
    ('PATCH', '/api/v2/key/{minion_id}'): r'Transition \w+->\w+ is invalid',
    ('POST', '/api/v2/cluster/{fsid}/cli'): r'Error in cli command',
    ('POST', '/api/v2/server/{fqdn}/debug_job'): r'ceph\.selftest_wait',
    ('POST', '/api/v2/user'): r'User with this Username already exists',
    ('PUT', '/api/v2/user/{user_id}'): r'User with this Username already exists',
    ('PATCH', '/api/v2/user/{user_id}'): r'User with this Username already exists',
}
PAGINATED = r'/(request|event)$'
PAST_LAST_PAGE = 'That page contains no results'


def _canonical(value: Any) -> str:
    """A number as the API reads it: "016" and "+16" name user 16, as "16" does."""
    text = str(value).strip()
    return str(int(text)) if re.fullmatch(r'[+-]?\d+', text) else text


def _protected(name: str, value: Any, method: str) -> bool:
    """The fuzzer may change itself through ``user/me``, never delete itself."""
    protected = {_canonical(v) for v in PROTECT.get(name, [])}
    return _canonical(value) in protected or (name == 'user_id' and str(value) == 'me' and method == 'DELETE')


def _items(body: Any) -> List[Any]:
    return body.get('items') if isinstance(body, dict) and isinstance(body.get('items'), list) else []


def _safe_body(path: str, body: Any) -> bool:
    """No bucket write moves an existing OSD or bucket (the placement later tests rely on); no bulk key write
    names a real host."""
    if '/crush_node' in path:
        return not any(isinstance(item, dict) and str(item.get('id')) in PROTECT.get('item_id', [])
                       for item in _items(body))
    if path.endswith('/key') and isinstance(body, list):
        return not any(isinstance(item, dict) and str(item.get('id')) in PROTECT.get('minion_id', [])
                       for item in body)
    return True


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """Every phase's cases (the coverage phase applies no per-part filter): nothing protected is changed."""
    method = case.operation.method.upper()
    if any(method in GUARDED.get(name, ()) and _protected(name, value, method)
           for name, value in (case.path_parameters or {}).items()):
        return False
    return _safe_body(case.operation.path, case.body)


# What a guarded call on something protected is sent to instead (before_call): an object that does not exist.
NOWHERE = {'user_id': '999999999', 'pool_id': '999999999', 'node_id': '-999999999', 'rule_id': '999999999',
           'fqdn': 'nowhere.invalid', 'minion_id': 'nowhere.invalid'}


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """The last guard, on every call of every phase: the stateful phase fills path parameters from earlier responses
    (through the document's links and links the tool infers from GET responses) after ``filter_case`` has run, and
    so once deleted a user that existed before the run.  Such a call goes to an object that does not exist."""
    method = case.operation.method.upper()
    parameters = case.path_parameters or {}
    for name, value in list(parameters.items()):
        if method in GUARDED.get(name, ()) and _protected(name, value, method):
            parameters[name] = NOWHERE[name]


def _text(response: Any) -> str:
    try:
        return response.content.decode('utf-8', 'replace')
    except AttributeError:
        return ''


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """True keeps the failure.  Dropped: only the cases below, each because the API answered as documented."""
    code = getattr(failure, 'code', '')
    operation = case.operation
    key = (operation.method.upper(), operation.path)
    status = getattr(response, 'status_code', None)
    if code == 'ST202' and status == 400:
        text = _text(response)
        pattern = STATE_400.get(key) or STATE_400.get((key[0], key[1].replace('/api/v1/', '/api/v2/')))
        if pattern and re.search(pattern, text):
            return False
        # a page past the last one is a 400 (DRF's paginator), which depends on how many items there are
        if re.search(PAGINATED, key[1]) and PAST_LAST_PAGE in text:
            return False
    return True
