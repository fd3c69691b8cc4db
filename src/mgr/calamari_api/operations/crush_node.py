"""CRUSH node (bucket) POST/PATCH/DELETE: validation and the mon commands (API reference §4.9).

POST: ``osd crush add-bucket``, then each child moves under the new bucket: buckets with ``osd crush move``,
OSDs with ``osd crush set`` (position and weight at once; the weight defaults to the OSD's current CRUSH weight).
PATCH: ``osd crush rename-bucket`` for a new name, the same moves for new children, ``osd crush unlink`` for
children no longer listed (they stay in the map, detached) and ``osd crush reweight`` for OSDs whose weight
changes.  Changing a bucket's type is refused (Ceph has no command for it).  DELETE: ``osd crush remove``,
only for an empty bucket (409 otherwise, as in Calamari).
Calamari's ``config-key put daemon-private/...`` step (for its Salt agent) is not needed and not done.
"""
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from . import check_allowed, crush_name_error, field_number, raise_if, writable_fields
from ..web.http import ApiError, not_found_object
from ..requests.steps import Commands, Fail, Operation, Resume, Step, command_steps
from ..views.crush import WEIGHT_SCALE, is_shadow

if TYPE_CHECKING:
    from ..cluster import ClusterState

REQUIRED = ('name', 'bucket_type', 'items')
NOT_EMPTY = 'Cannot delete a bucket that still contains items'


class CrushContext:
    """What validation needs from ``osd crush dump``: buckets (no shadows), devices, types, parents."""

    def __init__(self, crush: Optional[Mapping[str, Any]]) -> None:
        crush = crush or {}
        all_buckets = list(crush.get('buckets', []))
        # rule names too: crushtool takes a bucket named like a rule for the rule (the text map breaks)
        self.names = ({b['name'] for b in all_buckets} | {d['name'] for d in crush.get('devices', [])}
                      | {r['rule_name'] for r in crush.get('rules', [])})
        self.buckets: Dict[int, Dict[str, Any]] = {b['id']: b for b in all_buckets if not is_shadow(b)}
        self.devices: Dict[int, str] = {d['id']: d['name'] for d in crush.get('devices', [])}
        self.type_names = [t['name'] for t in sorted(crush.get('types', []), key=lambda t: t['type_id'])]
        self.bucket_types = [t['name'] for t in crush.get('types', []) if t['type_id'] != 0]
        self.parents: Dict[int, List[int]] = {}
        self.osd_weights: Dict[int, int] = {}
        for bid, bucket in self.buckets.items():
            for item in bucket.get('items', []):
                self.parents.setdefault(item['id'], []).append(bid)
                if item['id'] >= 0:
                    self.osd_weights[item['id']] = max(self.osd_weights.get(item['id'], 0), item.get('weight', 0))

    def item_name(self, item_id: int) -> Optional[str]:
        if item_id >= 0:
            return self.devices.get(item_id)
        bucket = self.buckets.get(item_id)
        return bucket['name'] if bucket else None

    def ancestors(self, bucket_id: int) -> set:
        seen: set = set()
        todo = [bucket_id]
        while todo:
            for parent in self.parents.get(todo.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen


def _parse(body: Dict[str, Any], method: str, ctx: CrushContext) -> Tuple[str, str, List[Tuple[int, Optional[float]]]]:
    """Field checks (400): allowed and required fields (plain strings), bad values (lists)."""
    errors: Dict[str, Any] = check_allowed(body, writable_fields('crush_node', method), method)
    errors.update({f: f'Required during {method}' for f in REQUIRED if body.get(f) is None and f not in errors})
    name, bucket_type, items = body.get('name'), body.get('bucket_type'), body.get('items')
    if name is not None and crush_name_error(name):
        errors['name'] = crush_name_error(name)
    if bucket_type is not None and bucket_type not in ctx.bucket_types:
        errors['bucket_type'] = [f'Select a valid choice. {bucket_type} is not one of the available choices '
                                 f'({", ".join(ctx.bucket_types)}).']
    parsed: List[Tuple[int, Optional[float]]] = []
    if items is not None:
        problem = _parse_items(items, parsed)
        if problem:
            errors['items'] = [problem]
    raise_if(errors)
    return name, bucket_type, parsed


def _parse_items(items: Any, parsed: List[Tuple[int, Optional[float]]]) -> Optional[str]:
    shape = 'Enter a list of items: {"id": <CRUSH item id>, "weight": <number, optional>}.'
    if not isinstance(items, list):
        return shape
    for item in items:
        if not isinstance(item, dict) or isinstance(item.get('id'), bool) or not isinstance(item.get('id'), int):
            return shape
        weight = item.get('weight')
        if weight is not None:
            weight = field_number(weight, float, 0.0, 1e9)
            if isinstance(weight, list):
                return f'Item {item["id"]}: weight: {weight[0]}'
        if any(item['id'] == seen for seen, _ in parsed):
            return f'Item {item["id"]} is listed twice.'
        parsed.append((item['id'], weight))
    return None


def _check_items(items: List[Tuple[int, Optional[float]]], ctx: CrushContext, bucket_id: Optional[int]) -> None:
    """404 for an item that does not exist (Calamari's NotFound); 400 for a move that would make a loop."""
    for item_id, _ in items:
        if ctx.item_name(item_id) is None:
            raise not_found_object('osd' if item_id >= 0 else 'crush_node', item_id)
    if bucket_id is not None:
        loops = [i for i, _ in items if i == bucket_id or i in ctx.ancestors(bucket_id)]
        if loops:
            raise_if({'items': [f'Item {loops[0]} is this bucket or one of its ancestors.']})


def _check_name_free(name: str, ctx: CrushContext) -> None:
    if name in ctx.names:
        raise_if({'name': [f"A CRUSH item named '{name}' already exists"]}, 409)


def _move(ctx: CrushContext, item_id: int, weight: Optional[float], bucket_type: str, name: str) -> Dict[str, Any]:
    location = [f'{bucket_type}={name}']
    if item_id < 0:
        return {'prefix': 'osd crush move', 'name': ctx.item_name(item_id), 'args': location}
    if weight is None:
        weight = ctx.osd_weights.get(item_id, 0) / WEIGHT_SCALE
    return {'prefix': 'osd crush set', 'id': item_id, 'weight': weight, 'args': location}


def create_operation(body: Dict[str, Any], ctx: CrushContext, cluster_name: str, fsid: str) -> Operation:
    name, bucket_type, items = _parse(body, 'POST', ctx)
    _check_name_free(name, ctx)
    _check_items(items, ctx, None)
    add = {'prefix': 'osd crush add-bucket', 'name': name, 'type': bucket_type}
    moves = [_move(ctx, item_id, weight, bucket_type, name) for item_id, weight in items]
    return Operation(f'Creating CRUSH node in {cluster_name}', [Commands([add], write_ahead=True)]
                     + command_steps(moves), fsid=fsid,
                     resume=Resume('crush_node_create', {'name': name, 'add': add, 'moves': moves}))


def find_bucket(ctx: CrushContext, node_id: int) -> Dict[str, Any]:
    bucket = ctx.buckets.get(node_id)
    if bucket is None:
        raise not_found_object('crush_node', node_id)
    return bucket


def update_operation(node_id: int, body: Dict[str, Any], ctx: CrushContext, cluster_name: str,
                     fsid: str) -> Optional[Operation]:
    """None when nothing would change (304)."""
    bucket = find_bucket(ctx, node_id)
    name, bucket_type, items = _parse(body, 'PATCH', ctx)
    if bucket_type != bucket.get('type_name'):
        raise_if({'bucket_type': [f"Changing the type of a bucket ({bucket.get('type_name')} to {bucket_type}) "
                                  'is not supported: create a new bucket and move the items into it']})
    if name != bucket['name']:
        _check_name_free(name, ctx)
    _check_items(items, ctx, node_id)
    commands: List[Dict[str, Any]] = []
    if name != bucket['name']:
        commands.append({'prefix': 'osd crush rename-bucket', 'srcname': bucket['name'], 'dstname': name})
    current = {i['id']: i.get('weight', 0) for i in bucket.get('items', [])}
    wanted = {item_id for item_id, _ in items}
    for item_id, weight in items:
        if item_id not in current:
            commands.append(_move(ctx, item_id, weight, bucket_type, name))
        elif item_id >= 0 and weight is not None and round(weight * WEIGHT_SCALE) != current[item_id]:
            commands.append({'prefix': 'osd crush reweight', 'name': ctx.item_name(item_id), 'weight': weight})
    for item_id in current:
        if item_id not in wanted:
            commands.append({'prefix': 'osd crush unlink', 'name': ctx.item_name(item_id), 'ancestor': name})
    if not commands:
        return None
    return Operation(f'Updating CRUSH node in {cluster_name}', command_steps(commands), fsid=fsid,
                     resume=Resume('crush_node_update', {'id': node_id, 'name': name, 'was': bucket['name'],
                                                         'commands': commands}))


def delete_operation(node_id: int, ctx: CrushContext, cluster_name: str, fsid: str) -> Operation:
    bucket = find_bucket(ctx, node_id)
    if bucket.get('items'):
        raise ApiError(409, NOT_EMPTY)
    return Operation(f'Removing CRUSH node in {cluster_name}',
                     command_steps([{'prefix': 'osd crush remove', 'name': bucket['name']}]), fsid=fsid,
                     resume=Resume('crush_node_delete', {'id': node_id, 'name': bucket['name']}))


# -- after a failover: what is left to do, from the map ---------------------------------------------

def _left(commands: List[Dict[str, Any]], ctx: CrushContext, bucket_id: int) -> List[Step]:
    """The moves, unlinks and reweights whose effect is not in the map yet (each is idempotent anyway)."""
    inside = {i['id'] for i in ctx.buckets[bucket_id].get('items', [])}
    names = {ctx.item_name(i): i for i in inside}
    left = []
    for cmd in commands:
        prefix = cmd['prefix']
        if prefix == 'osd crush set' and cmd['id'] in inside:
            continue
        if prefix == 'osd crush move' and cmd['name'] in names:
            continue
        if prefix == 'osd crush unlink' and cmd['name'] not in names:
            continue
        left.append(cmd)
    return command_steps(left)


def _bucket_named(ctx: CrushContext, name: str) -> Optional[int]:
    return next((bid for bid, b in ctx.buckets.items() if b['name'] == name), None)


def resume_create(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    ctx = CrushContext(cluster.source('osd_map_crush'))
    bucket_id = _bucket_named(ctx, args['name'])
    if bucket_id is not None:
        return _left(args['moves'], ctx, bucket_id)
    if maybe_sent:
        return [Fail(f"Unknown whether CRUSH bucket '{args['name']}' was created: the mgr that sent the create "
                     'stopped, and no bucket of that name exists now (refused, or removed since); not created again')]
    return [Commands([args['add']], write_ahead=True)] + command_steps(args['moves'])


def resume_update(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """The bucket is known by its id and by its name before or after the update: CRUSH gives a removed bucket's
    id to the next new bucket, so an id holding another name is not the bucket asked for."""
    ctx = CrushContext(cluster.source('osd_map_crush'))
    bucket = ctx.buckets.get(args['id'])
    if bucket is None:
        return [Fail(f"Unknown whether CRUSH bucket {args['id']} was updated: it no longer exists")]
    if bucket['name'] not in (args['name'], args.get('was', bucket['name'])):
        return [Fail(f"Unknown whether CRUSH bucket {args['id']} ('{args.get('was')}') was updated: that id now "
                     f"belongs to bucket '{bucket['name']}'")]
    commands = [c for c in args['commands'] if c['prefix'] != 'osd crush rename-bucket']
    steps: List[Step] = []
    if bucket['name'] != args['name']:
        steps = command_steps([{'prefix': 'osd crush rename-bucket', 'srcname': bucket['name'],
                                'dstname': args['name']}])
    return steps + _left(commands, ctx, args['id'])


def resume_delete(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """Done when no bucket of that id and name is left (a new bucket may have the id since): never removes
    another bucket."""
    bucket = CrushContext(cluster.source('osd_map_crush')).buckets.get(args['id'])
    if bucket is None or bucket['name'] != args.get('name', bucket['name']):
        return []
    return command_steps([{'prefix': 'osd crush remove', 'name': bucket['name']}])
