"""Pool POST/PATCH/DELETE: Calamari's three validation stages (API reference §5) and the commands.

Stage 1 (fields): 400 with DRF-style lists for bad values and plain strings for allowed/required.
Stage 2 (semantics): lists per field; 409 if the name is taken, else 400.
Stage 3: the mon commands, sent in Calamari's POOL_PROPERTIES order, quotas next, rename last.
Pacific differences: ``crush_ruleset`` is set as ``crush_rule`` (by rule name), ``crash_replay_interval``
is kept as pool application metadata (it has no effect), size and hashpspool need the confirmation flag,
and PG splitting is left to Ceph: the request waits until the pool has the asked pg_num and no PG of the
pool is still being created.
"""
import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from . import check_allowed, field_bool, field_int, raise_if, required_fields, writable_fields
from ..requests.steps import Commands, Fail, Operation, Resume, Step, WaitFor, command_steps
from ..views.pool import CALAMARI_APP, CRASH_REPLAY_KEY

if TYPE_CHECKING:
    from ..cluster import ClusterState

INT_FIELDS = {'pg_num': 1, 'pgp_num': 1, 'size': 1, 'min_size': 0, 'crash_replay_interval': 0,
              'crush_ruleset': 0, 'quota_max_objects': 0, 'quota_max_bytes': 0}
CONTROL = re.compile('[\x00-\x1f\x7f]')
CREATE_REQUIRED = required_fields('pool')         # name, pg_num
MODIFY_ALLOWED = writable_fields('pool', 'PATCH')
POOL_TYPES = ('replicated', 'erasure')
POOL_PROPERTIES = ('size', 'min_size', 'crash_replay_interval', 'pg_num', 'pgp_num', 'crush_ruleset', 'hashpspool')
QUOTAS = (('quota_max_bytes', 'max_bytes'), ('quota_max_objects', 'max_objects'))
UNSETTLED_PG_STATES = ('creating', 'unknown')


class PoolContext:
    """What validation needs from the maps: pools, CRUSH rules, config."""

    def __init__(self, osd_map: Mapping[str, Any], crush: Optional[Mapping[str, Any]],
                 config: Optional[Mapping[str, Any]]) -> None:
        self.pools: List[Dict[str, Any]] = list((osd_map or {}).get('pools', []))
        self.rules: List[Dict[str, Any]] = list((crush or {}).get('rules', []))
        self.config: Mapping[str, Any] = config or {}

    def pool(self, pool_id: int) -> Optional[Dict[str, Any]]:
        return next((p for p in self.pools if p['pool'] == pool_id), None)

    def rule_name(self, ruleset: int) -> Optional[str]:
        for rule in self.rules:
            if rule.get('ruleset', rule.get('rule_id')) == ruleset:
                return rule.get('rule_name')
        return None

    def config_int(self, key: str, default: int) -> int:
        try:
            return int(self.config.get(key, default))
        except (TypeError, ValueError):
            return default


# -- stage 1 -------------------------------------------------------------------------------------

def parse_fields(body: Dict[str, Any], method: str, erasure: bool) -> Dict[str, Any]:
    """Convert and check field types; raise 400 with field errors merged with allowed/required errors."""
    errors: Dict[str, Any] = {}
    attrs: Dict[str, Any] = {}
    for key, value in body.items():
        if value is None:
            continue
        if key in INT_FIELDS:
            converted = field_int(value, INT_FIELDS[key])
        elif key == 'hashpspool':
            converted = field_bool(value)
            converted = bool(value) if converted is None else converted    # DRF 2.3 BooleanField
        elif key == 'name':
            converted = _name(value)
        elif key == 'type':
            converted = value if value in POOL_TYPES else [
                f'Select a valid choice. {value} is not one of the available choices.']
        elif key == 'erasure_code_profile':
            converted = value if isinstance(value, str) else ['Enter a valid value.']
        else:
            converted = value
        if isinstance(converted, list):
            errors[key] = converted
        else:
            attrs[key] = converted
    allowed = writable_fields('pool', method)
    if erasure:
        allowed = [f for f in allowed if f != 'size']
    errors.update(check_allowed(body, allowed, method))
    if method == 'POST':
        errors.update({f: 'Required during POST' for f in CREATE_REQUIRED if body.get(f) is None})
    raise_if(errors)
    return attrs


def _name(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ['Enter a valid value.']
    text = str(value)
    if not text.strip():
        return ['This field is required.']
    if CONTROL.search(text):        # (a NUL ends the name the maps show: the pool could not be named again)
        return ['Pool names cannot contain control characters.']
    return text


# -- stage 2 -------------------------------------------------------------------------------------

def check_semantics(attrs: Dict[str, Any], ctx: PoolContext, pool: Optional[Dict[str, Any]]) -> None:
    errors: Dict[str, List[str]] = {}
    pool_id = pool['pool'] if pool else None
    name = attrs.get('name')
    if name is not None and any(p['pool_name'] == name and p['pool'] != pool_id for p in ctx.pools):
        errors.setdefault('name', []).append(f'Pool with name {name} already exists')
    ruleset = attrs.get('crush_ruleset')
    if ruleset is not None and ctx.rule_name(ruleset) is None:
        errors.setdefault('crush_ruleset', []).append(f'CRUSH ruleset {ruleset} not found')
    if 'pg_num' in attrs and 'pgp_num' in attrs and attrs['pg_num'] < attrs['pgp_num']:
        errors.setdefault('pgp_num', []).append('must be >= to pg_num')
    if pool is not None:
        if 'pg_num' in attrs and attrs['pg_num'] < pool['pg_num']:
            errors.setdefault('pg_num', []).append('must be >= than current pg_num')
        if 'pgp_num' in attrs and attrs['pgp_num'] < pool.get('pg_placement_num', 0):
            errors.setdefault('pgp_num', []).append('must be >= than current pgp_num')
    limit = ctx.config_int('mon_max_pool_pg_num', 65536)
    if attrs.get('pg_num', 0) > limit:
        errors.setdefault('pg_num', []).append(f'requested pg_num must be <= than current limit of {limit}')
    raise_if(errors, 409 if 'name' in errors else 400)


def derive_min_size(size: int, min_size: int) -> int:
    """Calamari's rule: a nonzero min_size is clamped to size; zero means size - size/2."""
    return min(min_size, size) if min_size else size - size // 2


# -- stage 3 -------------------------------------------------------------------------------------

def attribute_steps(pool_name: str, attrs: Dict[str, Any], ctx: PoolContext) -> List[Step]:
    """``osd pool set`` per property in POOL_PROPERTIES order, then quotas, as one wave (the mon applies
    them in order to its pending map, so they commit together); the application key needs the application
    enabled first, so it follows in a second wave.  Renames are added by callers, last."""
    wave: List[Dict[str, Any]] = []
    after: List[Dict[str, Any]] = []
    for var in POOL_PROPERTIES:
        if var not in attrs:
            continue
        value = attrs[var]
        if var == 'crash_replay_interval':
            wave.append({'prefix': 'osd pool application enable', 'pool': pool_name, 'app': CALAMARI_APP,
                         'yes_i_really_mean_it': True})
            after.append({'prefix': 'osd pool application set', 'pool': pool_name, 'app': CALAMARI_APP,
                          'key': CRASH_REPLAY_KEY, 'value': str(value)})
        elif var == 'crush_ruleset':
            wave.append(_set(pool_name, 'crush_rule', ctx.rule_name(value)))
        elif var == 'hashpspool':
            wave.append(_set(pool_name, var, '1' if value else '0', sure=True))
        else:
            wave.append(_set(pool_name, var, str(value), sure=var == 'size'))
    for attr, field in QUOTAS:
        if attr in attrs:
            wave.append({'prefix': 'osd pool set-quota', 'pool': pool_name, 'field': field,
                         'val': str(attrs[attr])})
    return [Commands(w) for w in (wave, after) if w]


def _set(pool_name: str, var: str, val: Any, sure: bool = False) -> Dict[str, Any]:
    cmd: Dict[str, Any] = {'prefix': 'osd pool set', 'pool': pool_name, 'var': var, 'val': val}
    if sure:
        cmd['yes_i_really_mean_it'] = True
    return cmd


def create_operation(body: Dict[str, Any], ctx: PoolContext, fsid: str) -> Operation:
    erasure = body.get('type') == 'erasure'
    attrs = parse_fields(body, 'POST', erasure)
    check_semantics(attrs, ctx, None)
    name = attrs['name']
    create: Dict[str, Any] = {'prefix': 'osd pool create', 'pool': name, 'pg_num': attrs['pg_num'],
                              'pool_type': attrs.get('type', 'replicated')}
    if erasure:
        attrs.pop('min_size', None)
        if attrs.get('erasure_code_profile'):
            create['erasure_code_profile'] = attrs['erasure_code_profile']
    else:
        size = attrs.get('size') or ctx.config_int('osd_pool_default_size', 3)
        # an explicit 0 is Calamari's "default" (size - size // 2), whatever osd_pool_default_min_size says
        min_size = attrs['min_size'] if 'min_size' in attrs else ctx.config_int('osd_pool_default_min_size', 0)
        attrs['min_size'] = derive_min_size(size, min_size)
    # pgp_num is validated, then ignored (Ceph makes pgp_num = pg_num)
    later = {k: v for k, v in attrs.items() if k not in ('name', 'pg_num', 'pgp_num', 'type', 'erasure_code_profile')}
    waves = attribute_steps(name, later, ctx)
    steps: List[Step] = [Commands([create], write_ahead=True)] + waves     # a second create could follow a delete
    steps.append(WaitFor(pool_created(name), status='Running'))
    resume = Resume('pool_create', {'name': name, 'create': create, 'waves': _waves(waves)})
    return Operation(f"Creating pool '{name}'", steps, fsid=fsid, resume=resume)


def _waves(steps: List[Step]) -> List[List[Dict[str, Any]]]:
    return [step.commands for step in steps if isinstance(step, Commands)]


def update_operation(pool_id: int, body: Dict[str, Any], ctx: PoolContext, fsid: str) -> Operation:
    pool = ctx.pool(pool_id)
    assert pool is not None
    attrs = parse_fields(body, 'PATCH', pool.get('type') == 3)
    if not attrs:
        raise_if({'detail': 'Nothing to modify: give at least one of ' + ', '.join(MODIFY_ALLOWED)})
    check_semantics(attrs, ctx, pool)
    if 'size' in attrs or 'min_size' in attrs:
        size = attrs.get('size', pool['size'])
        attrs['min_size'] = derive_min_size(size, attrs.get('min_size', pool['min_size']))
    name = pool['pool_name']
    rename = command_steps([{'prefix': 'osd pool rename', 'srcpool': name, 'destpool': attrs['name']}]) \
        if 'name' in attrs and attrs['name'] != name else []
    args = {'pool_id': pool_id, 'rename': attrs['name'] if rename else None, 'pg': None}
    if 'pg_num' not in attrs:
        described = ', '.join(f'{k}={v}' for k, v in attrs.items())
        waves = attribute_steps(name, attrs, ctx)
        return Operation(f"Modifying pool '{name}' ({described})", waves + rename, fsid=fsid,
                         resume=Resume('pool_update', dict(args, waves=_waves(waves))))
    pg_num = attrs['pg_num']
    pgp_num = attrs.setdefault('pgp_num', pg_num)
    steps = attribute_steps(name, attrs, ctx)
    args.update(waves=_waves(steps), pg=[pg_num, pgp_num])
    steps.append(WaitFor(pgs_settled(pool_id, pg_num, pgp_num), status=f'Waiting for PG creation (0/{pg_num})'))
    return Operation(f"Growing pool '{name}' to {pg_num} PGs", steps + rename, fsid=fsid,
                     resume=Resume('pool_update', args))


def delete_operation(pool: Dict[str, Any], fsid: str) -> Operation:
    """By name, as the mon wants; the pool's id is kept so that a resumed delete never removes a pool created
    under the same name since."""
    name = pool['pool_name']
    return Operation(f"Deleting pool '{name}'", command_steps([_delete(name)]), fsid=fsid,
                     resume=Resume('pool_delete', {'pool_id': pool['pool'], 'name': name}))


def _delete(name: str) -> Dict[str, Any]:
    return {'prefix': 'osd pool delete', 'pool': name, 'pool2': name, 'yes_i_really_really_mean_it': True}


# -- after a failover: what is left to do, from the maps ---------------------------------------------

def _pool_named(cluster: 'ClusterState', name: str) -> Optional[Dict[str, Any]]:
    return next((p for p in (cluster.source('osd_map') or {}).get('pools', []) if p['pool_name'] == name), None)


def _pool_by_id(cluster: 'ClusterState', pool_id: int) -> Optional[Dict[str, Any]]:
    return next((p for p in (cluster.source('osd_map') or {}).get('pools', []) if p['pool'] == pool_id), None)


def _on_pool(waves: List[List[Dict[str, Any]]], name: str) -> List[Step]:
    """The (idempotent) attribute waves, sent to the pool's current name."""
    return [Commands([dict(cmd, pool=name) for cmd in wave]) for wave in waves]


def resume_create(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """The pool exists: set its attributes again (idempotent) and wait for its PGs.  It does not: create it
    unless the create may have been sent already (then it is not known what happened to it)."""
    name = args['name']
    wait = WaitFor(pool_created(name), status='Running')
    if _pool_named(cluster, name) is not None:
        return _on_pool(args['waves'], name) + [wait]
    if maybe_sent:
        return [Fail(f"Unknown whether pool '{name}' was created: the mgr that sent the create stopped, and no pool "
                     f"of that name exists now (the mons refused it, or it was deleted since); not created again")]
    return [Commands([args['create']], write_ahead=True)] + _on_pool(args['waves'], name) + [wait]


def resume_update(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """By the pool's id: its attributes again (idempotent), the PG wait, and the rename unless it is done."""
    pool = _pool_by_id(cluster, args['pool_id'])
    if pool is None:
        return [Fail(f"Unknown whether pool {args['pool_id']} was modified: it no longer exists")]
    name = pool['pool_name']
    steps = _on_pool(args['waves'], name)
    if args.get('pg'):
        pg_num, pgp_num = args['pg']
        steps.append(WaitFor(pgs_settled(args['pool_id'], pg_num, pgp_num),
                             status=f'Waiting for PG creation (0/{pg_num})'))
    if args.get('rename') and args['rename'] != name:
        steps += command_steps([{'prefix': 'osd pool rename', 'srcpool': name, 'destpool': args['rename']}])
    return steps


def resume_delete(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """Gone (or only a newer pool of that name exists): done.  Still there (same id): delete it."""
    pool = _pool_by_id(cluster, args['pool_id'])
    return [] if pool is None else command_steps([_delete(pool['pool_name'])])


# -- completion conditions -------------------------------------------------------------------------

def _pg_counts(pg_summary: Optional[Mapping[str, Any]], pool_id: int) -> Tuple[int, int]:
    """(PGs reported for the pool, of which settled: not creating and not unknown)."""
    states = ((pg_summary or {}).get('by_pool') or {}).get(str(pool_id)) or {}
    total = sum(states.values())
    unsettled = sum(n for state, n in states.items() if any(s in state for s in UNSETTLED_PG_STATES))
    return total, total - unsettled


def pool_created(name: str) -> Any:
    def check(cluster: 'ClusterState') -> Tuple[bool, Optional[str], Optional[str]]:
        osd_map = cluster.source('osd_map') or {}
        pool = next((p for p in osd_map.get('pools', []) if p['pool_name'] == name), None)
        if pool is None:
            return False, None, f"Expected pool '{name}' not found"
        total, settled = _pg_counts(cluster.source('pg_summary'), pool['pool'])
        if total < pool['pg_num']:
            status = f"Waiting for OSD map epoch {osd_map.get('epoch')}"
        else:       # (what a timeout then says: the pool is there, its PGs are not all created)
            status = f"Pool '{name}' created; waiting for PG creation ({settled}/{total})"
        return total >= pool['pg_num'] and settled == total, status, None
    return check


def pgs_settled(pool_id: int, pg_num: int, pgp_num: int) -> Any:
    def check(cluster: 'ClusterState') -> Tuple[bool, Optional[str], Optional[str]]:
        pool = next((p for p in (cluster.source('osd_map') or {}).get('pools', []) if p['pool'] == pool_id), None)
        if pool is None:
            return False, None, f'Expected pool {pool_id} not found'
        total, settled = _pg_counts(cluster.source('pg_summary'), pool_id)
        status = f'Waiting for PG creation ({min(settled, pg_num)}/{pg_num})'
        if pool.get('pg_num_target', pg_num) != pg_num and pool['pg_num'] == pool.get('pg_num_target'):
            return True, status, None       # someone (the autoscaler) has changed pg_num since
        done = (pool['pg_num'] >= pg_num and pool.get('pg_placement_num', pgp_num) >= pgp_num
                and total >= pool['pg_num'] and settled == total)
        return done, status, None
    return check
