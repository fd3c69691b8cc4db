"""CRUSH rule POST/PATCH/DELETE and CRUSH map POST (API reference §4.6, §4.8).

POST/PATCH validate the rule, serialize it into the current text map (views/crush_text.py), and the caller
compiles that with ``crushtool -c`` before anything is sent; the request then runs ``osd setcrushmap`` with
the binary through librados (``requests.RadosCommand``) with ``prior_version`` = the version the text was
built from, so a concurrent CRUSH change makes the request fail rather than be silently reverted.  It
completes once the mgr's OSD map has the new CRUSH version.  DELETE is ``osd crush rule rm <name>``.
Pacific: a rule's ``ruleset`` is its id (pools refer to rules by id).  Tentacle's CRUSH rules have no sizes
(compat.RULE_SIZE_DEFAULTS): its crushtool drops the size lines of the text, and the sizes a client sets are kept
by the module once the request has completed (``keep_sizes``).
"""
import base64
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple

from . import check_allowed, crush_name_error, field_int, raise_if, writable_fields
from ..compat import crush_has_rule_sizes
from ..web.http import detail, not_found_object
from ..requests.steps import Fail, Operation, RadosCommand, Resume, Step, WaitFor, command_steps
from ..views.crush import named_step, rule_type_name
from ..views.crush_text import rule_text

if TYPE_CHECKING:
    from ..cluster import ClusterState
    from ..store import KVStore

RULE_TYPES = ('replicated', 'erasure')
REQUIRED = ('name', 'type', 'min_size', 'max_size', 'steps')
MAX_RULESET = 255
INT_LIMIT = 2 ** 31 - 1
SET_OPS = ('set_choose_tries', 'set_chooseleaf_tries', 'set_choose_local_tries',
           'set_choose_local_fallback_tries', 'set_chooseleaf_vary_r', 'set_chooseleaf_stable')
CHOOSE_OPS = ('choose_firstn', 'choose_indep', 'chooseleaf_firstn', 'chooseleaf_indep')
STEP_OPS = ('take', 'emit') + CHOOSE_OPS + SET_OPS


class RuleContext:
    """What rule validation needs: ``osd crush dump`` (rules, item names, types) and the pools' rules."""

    def __init__(self, crush: Optional[Mapping[str, Any]], osd_map: Optional[Mapping[str, Any]],
                 rule_objects: Optional[List[Dict[str, Any]]] = None) -> None:
        crush = crush or {}
        self.rules: List[Dict[str, Any]] = list(crush.get('rules', []))
        self.has_sizes = crush_has_rule_sizes(crush)
        # the API's rule objects: the sizes each rule shows (kept ones where CRUSH has none)
        self.shown_sizes = {r['id']: (r['min_size'], r['max_size']) for r in rule_objects or []}
        self.items: Dict[int, str] = {d['id']: d['name'] for d in crush.get('devices', [])}
        self.items.update({b['id']: b['name'] for b in crush.get('buckets', [])})
        self.type_names = [t['name'] for t in crush.get('types', [])]
        self.pools: List[Dict[str, Any]] = list((osd_map or {}).get('pools', []))

    def rule(self, rule_id: int) -> Optional[Dict[str, Any]]:
        return next((r for r in self.rules if r['rule_id'] == rule_id), None)

    def pools_using(self, rule_id: int) -> List[str]:
        return [p['pool_name'] for p in self.pools if p.get('crush_rule') == rule_id]

    def free_id(self) -> int:
        used = {r['rule_id'] for r in self.rules}
        return next(i for i in range(len(used) + 1) if i not in used)


def find_rule(ctx: RuleContext, rule_id: int) -> Dict[str, Any]:
    rule = ctx.rule(rule_id)
    if rule is None:
        raise not_found_object('crush_rule', rule_id)
    return rule


def _step(step: Any, ctx: RuleContext) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """A checked step (take resolved to item_name), or an error message."""
    if not isinstance(step, dict) or step.get('op') not in STEP_OPS:
        op = step.get('op') if isinstance(step, dict) else None
        return None, f'op: {op!r} is not one of {", ".join(STEP_OPS)}'
    op = step['op']
    if op == 'emit':
        return {'op': op}, None
    if op == 'take':
        name = step.get('item_name')
        if name is None and isinstance(step.get('item'), int) and not isinstance(step.get('item'), bool):
            name = ctx.items.get(step['item'])
        if not isinstance(name, str) or name not in ctx.items.values():
            return None, 'take: item_name (or item) must name an existing CRUSH bucket or device'
        return {'op': op, 'item_name': name}, None
    num = field_int(step.get('num'), -INT_LIMIT)
    if isinstance(num, list) or num > INT_LIMIT:
        return None, f'{op}: num must be an integer'
    if op in SET_OPS:
        return {'op': op, 'num': num}, None
    if step.get('type') not in ctx.type_names:
        return None, f'{op}: type must be one of {", ".join(ctx.type_names)}'
    return {'op': op, 'num': num, 'type': step['type']}, None


def parse_rule(body: Dict[str, Any], method: str, ctx: RuleContext,
               current: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The rule to write, ``{id, name, type, min_size, max_size, steps}``, or 400/409 with field errors."""
    errors: Dict[str, Any] = check_allowed(body, writable_fields('crush_rule', method), method)
    if method == 'POST':
        errors.update({f: 'Required during POST' for f in REQUIRED if body.get(f) is None and f not in errors})
    rule: Dict[str, Any] = current_rule(current, ctx) if current is not None else {'id': ctx.free_id()}
    for key, value in body.items():
        if key in errors or value is None:
            continue
        if key == 'name':
            if crush_name_error(value):
                errors[key] = crush_name_error(value)
        elif key == 'type':
            if value not in RULE_TYPES:
                errors[key] = [f'Select a valid choice. {value} is not one of the available choices.']
        elif key in ('ruleset', 'min_size', 'max_size'):
            number = field_int(value, 0)
            if not isinstance(number, list) and number > (MAX_RULESET if key == 'ruleset' else INT_LIMIT):
                number = [f'This field must be less than {MAX_RULESET}.' if key == 'ruleset'
                          else 'Enter a whole number.']
            if isinstance(number, list):
                errors[key] = number
            value = number
        elif key == 'steps':
            value = _steps(value, ctx, errors)
        rule['id' if key == 'ruleset' else key] = value
    if not errors and rule['min_size'] > rule['max_size']:
        errors['min_size'] = ['Ensure min_size is less than or equal to max_size.']
    raise_if(errors)
    _check_conflicts(rule, ctx, current)
    return rule


def _steps(value: Any, ctx: RuleContext, errors: Dict[str, Any]) -> Any:
    if not isinstance(value, list) or not value:
        errors['steps'] = ['Enter a non-empty list of steps ({"op": ..., "item_name", "num", "type"}).']
        return value
    steps = []
    for i, raw in enumerate(value):
        step, problem = _step(raw, ctx)
        if problem:
            errors['steps'] = [f'Step {i}: {problem}']
            return value
        steps.append(step)
    return steps


def _check_conflicts(rule: Dict[str, Any], ctx: RuleContext, current: Optional[Dict[str, Any]]) -> None:
    own_id = current['rule_id'] if current else None
    errors: Dict[str, Any] = {}
    if any(r['rule_name'] == rule['name'] and r['rule_id'] != own_id for r in ctx.rules):
        errors['name'] = [f"A CRUSH rule named '{rule['name']}' already exists"]
    elif rule['name'] in ctx.items.values():       # crushtool takes a rule named like a bucket for the bucket
        errors['name'] = [f"A CRUSH item named '{rule['name']}' already exists"]
    if any(r['rule_id'] == rule['id'] and r['rule_id'] != own_id for r in ctx.rules):
        errors['ruleset'] = [f"A CRUSH rule with id {rule['id']} already exists"]
    if current is not None and rule['id'] != own_id and ctx.pools_using(own_id):
        errors['ruleset'] = [f"Rule {current['rule_name']} is used by pool(s) {', '.join(ctx.pools_using(own_id))}: "
                             'its id cannot change']
    raise_if(errors, 409)


def current_rule(rule: Dict[str, Any], ctx: RuleContext) -> Dict[str, Any]:
    """An ``osd crush dump`` rule in the shape ``parse_rule`` gives (with the sizes the API shows)."""
    min_size, max_size = ctx.shown_sizes.get(rule['rule_id'], (rule.get('min_size'), rule.get('max_size')))
    return {'id': rule['rule_id'], 'name': rule['rule_name'], 'type': rule_type_name(rule.get('type')),
            'min_size': min_size, 'max_size': max_size, 'steps': [named_step(s) for s in rule.get('steps', [])]}


def unchanged(rule: Dict[str, Any], current: Dict[str, Any], ctx: RuleContext) -> bool:
    """Would the rule stay the same (a PATCH that changes nothing: 304)?"""
    before = current_rule(current, ctx)
    return rule_text(rule_for_text(rule)) == rule_text(rule_for_text(before))


def rule_for_text(rule: Dict[str, Any]) -> Dict[str, Any]:
    """Existing steps from ``osd crush dump`` carry ``item`` and ``item_name``; the text needs the name.  (The
    sizes stay: Pacific's crushtool requires them, Tentacle's accepts and drops them.)"""
    return dict(rule, steps=[{k: v for k, v in s.items() if k != 'item'} for s in rule['steps']])


def keep_sizes(kept: Dict[str, Any], rule: Dict[str, Any], rule_ids: List[int]) -> Dict[str, Any]:
    """The kept sizes (rule id → name and sizes) with ``rule``'s, without rules that no longer exist."""
    kept = {k: v for k, v in kept.items() if k.isdigit() and int(k) in rule_ids}
    kept[str(rule['id'])] = {'name': rule['name'], 'min_size': rule['min_size'], 'max_size': rule['max_size']}
    return kept


def store_sizes(store: 'KVStore', cluster: 'ClusterState', rule: Dict[str, Any]) -> None:
    """Where CRUSH has no rule sizes (Tentacle): remember the ones the client set, for the API to show."""
    rule_ids = [r['rule_id'] for r in (cluster.source('osd_map_crush') or {}).get('rules', [])]
    kept = store.get_json('crush_rule_sizes', {}) or {}
    store.set_json('crush_rule_sizes', keep_sizes(kept, rule, rule_ids))
    cluster.touch('crush_rule_sizes')


def setcrushmap_operation(headline: str, binary: bytes, prior_version: Optional[int], fsid: str,
                          after: Optional[Callable[[], None]] = None,
                          rule: Optional[Dict[str, Any]] = None) -> Operation:
    """``after()`` runs (on the request engine's thread) once the new CRUSH map is in place.  With ``rule`` (the
    rule written) and a prior version, a failover resumes it (``resume_write``); a whole map replaced is not."""
    command: Dict[str, Any] = {'prefix': 'osd setcrushmap'}
    if prior_version is not None:
        command['prior_version'] = prior_version
    resume = None
    if rule is not None and prior_version is not None:
        resume = Resume('crush_rule_write', {'binary': base64.b64encode(binary).decode('ascii'),
                                             'prior_version': prior_version, 'rule': rule,
                                             'keep_sizes': after is not None})
    return Operation(headline, [RadosCommand(command, binary, then=lambda outs: crush_version_reached(outs, after))],
                     fsid=fsid, resume=resume)


def rule_in_place(rule: Dict[str, Any], crush: Optional[Mapping[str, Any]]) -> bool:
    """Does the CRUSH map hold ``rule`` (as ``parse_rule`` gives it): same id, name, type and steps?"""
    found = next((r for r in (crush or {}).get('rules', []) if r['rule_id'] == rule['id']), None)
    if found is None or found['rule_name'] != rule['name'] or rule_type_name(found.get('type')) != rule['type']:
        return False
    have = [named_step(s) for s in found.get('steps', [])]
    keys = ('op', 'item_name', 'num', 'type')
    return len(have) == len(rule['steps']) and all(
        all(a.get(k) == b.get(k) for k in keys) for a, b in zip(have, rule['steps']))


def resume_write(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState',
                 keep: Optional[Callable[[Dict[str, Any]], None]] = None) -> List[Step]:
    """The rule is in the map: done.  The CRUSH map is still at the version the new one was built from: set it
    (``prior_version`` makes the mon refuse it if anything changed meanwhile).  Else it is unknown."""
    rule = args['rule']
    after = (lambda: keep(rule)) if keep is not None and args.get('keep_sizes') else None
    if rule_in_place(rule, cluster.source('osd_map_crush')):
        if after is not None:
            after()
        return []
    version = (cluster.source('osd_map') or {}).get('crush_version')
    if version == args['prior_version']:
        command = {'prefix': 'osd setcrushmap', 'prior_version': args['prior_version']}
        return [RadosCommand(command, base64.b64decode(args['binary']),
                             then=lambda outs: crush_version_reached(outs, after))]
    return [Fail(f"Unknown whether CRUSH rule '{rule['name']}' was written: it is not in the map as asked, and the "
                 f"CRUSH map changed since (version {args['prior_version']} -> {version}); not written again")]


def resume_delete(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """Gone, or another rule has its name now: done.  Still there (same id): remove it."""
    rule = next((r for r in (cluster.source('osd_map_crush') or {}).get('rules', [])
                 if r['rule_name'] == args['name']), None)
    if rule is None or rule['rule_id'] != args['rule_id']:
        return []
    return command_steps([{'prefix': 'osd crush rule rm', 'name': args['name']}])


def crush_version_reached(outs: str, after: Optional[Callable[[], None]] = None) -> Optional[Step]:
    """``osd setcrushmap`` prints the new CRUSH version: wait until the mgr's OSD map has it."""
    try:
        version = int(outs.strip())
    except ValueError:
        return None

    def check(cluster: 'ClusterState') -> Tuple[bool, Optional[str], Optional[str]]:
        osd_map = cluster.source('osd_map') or {}
        done = osd_map.get('crush_version', version) >= version
        if done and after is not None:
            after()
        return done, f'Waiting for CRUSH version {version}', None
    return WaitFor(check, status=f'Waiting for CRUSH version {version}')


def delete_operation(rule_id: int, ctx: RuleContext, cluster_name: str, fsid: str) -> Operation:
    rule = find_rule(ctx, rule_id)
    pools = ctx.pools_using(rule_id)
    if pools:
        raise detail(409, f"CRUSH rule '{rule['rule_name']}' is used by pool(s) {', '.join(pools)}")
    return Operation(f'Removing CRUSH rule in {cluster_name}',
                     command_steps([{'prefix': 'osd crush rule rm', 'name': rule['rule_name']}]), fsid=fsid,
                     resume=Resume('crush_rule_delete', {'name': rule['rule_name'], 'rule_id': rule_id}))


def check_same_map(old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Only the rules may differ between the current map and the one to set (a guard against weights or
    anything else lost in the text form)."""
    for key in ('devices', 'types', 'buckets', 'tunables', 'choose_args'):
        if _comparable(key, old.get(key)) != _comparable(key, new.get(key)):
            # a map crushtool cannot write back as it is (a conflict with its current state, not an outage)
            raise detail(409, f'The CRUSH map text does not compile back to the same {key}; nothing was changed')


def _comparable(key: str, value: Any) -> Any:
    """Tunables without what the rules imply (``has_v2_rules``..., the minimum client version)."""
    if key != 'tunables' or not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if not k.startswith('has_v') or k.endswith('buckets')
            if k != 'minimum_required_version'}
