"""OSD PATCH (in/up/reweight), OSD commands (scrub, deep_scrub, repair) and OSD flags (osd_config PATCH)."""
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from . import check_allowed, field_bool, field_number, raise_if, writable_fields
from ..web.http import ApiError
from ..requests.steps import Commands, Fail, Operation, Resume, Step

if TYPE_CHECKING:
    from ..cluster import ClusterState

OSD_MODIFY_ALLOWED = writable_fields('osd', 'PATCH')          # up, in, reweight
OSD_COMMANDS = {'scrub': 'scrub', 'deep_scrub': 'deep-scrub', 'repair': 'repair'}
OSD_FLAGS = tuple(writable_fields('osd_config', 'PATCH'))
NOT_BOOLEAN = ['Must be a boolean (true or false).']


def find_osd(osd_map: Optional[Mapping[str, Any]], osd_id: int) -> Optional[Dict[str, Any]]:
    return next((o for o in (osd_map or {}).get('osds', []) if o['osd'] == osd_id), None)


def update_operation(osd: Dict[str, Any], body: Dict[str, Any], cluster_name: str, fsid: str) -> Optional[Operation]:
    """None when nothing would change (304)."""
    errors: Dict[str, Any] = check_allowed(body, OSD_MODIFY_ALLOWED, 'PATCH')
    attrs: Dict[str, Any] = {}
    for key in [k for k in body if k in OSD_MODIFY_ALLOWED]:       # body order (the headline shows it)
        value = field_number(body[key], float, 0.0, 1.0) if key == 'reweight' else field_bool(body[key])
        if value is None:
            value = NOT_BOOLEAN
        if isinstance(value, list):
            errors[key] = value
        else:
            attrs[key] = value
    if attrs.get('up') is True and not osd['up']:
        errors['up'] = [f'osd.{osd["osd"]} is down: an OSD cannot be marked up through the API, '
                        'start its ceph-osd daemon instead']
    raise_if(errors)
    osd_id = osd['osd']
    ids = [str(osd_id)]
    commands: List[Dict[str, Any]] = []
    if 'in' in attrs and attrs['in'] != bool(osd['in']):
        commands.append({'prefix': 'osd in' if attrs['in'] else 'osd out', 'ids': ids})
    if attrs.get('up') is False and osd['up']:
        commands.append({'prefix': 'osd down', 'ids': ids})
    if 'reweight' in attrs and abs(attrs['reweight'] - float(osd.get('weight', 0.0))) > 1e-6:
        commands.append({'prefix': 'osd reweight', 'id': osd_id, 'weight': attrs['reweight']})
    if not commands:
        return None
    steps = [Commands([cmd], write_ahead=cmd['prefix'] == 'osd down') for cmd in commands]
    return Operation(_osd_headline(cluster_name, osd_id, attrs), steps, fsid=fsid,
                     resume=Resume('osd_update', {'osd': osd_id, 'commands': commands}))


def resume_update(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """The commands whose effect is not in the map yet (in/out and reweight are idempotent).  A mark-down
    cannot be seen afterwards (the OSD comes back up by itself): sent once at most (write-ahead)."""
    osd = find_osd(cluster.source('osd_map'), args['osd'])
    if osd is None:
        return [Fail(f"Unknown whether osd.{args['osd']} was changed: it is no longer in the OSD map")]
    left: List[Step] = []
    for cmd in args['commands']:
        prefix = cmd['prefix']
        if prefix in ('osd in', 'osd out') and bool(osd['in']) == (prefix == 'osd in'):
            continue
        if prefix == 'osd reweight' and abs(float(osd.get('weight', 0.0)) - float(cmd['weight'])) < 1e-4:
            continue
        if prefix == 'osd down' and (maybe_sent or not osd['up']):
            continue
        left.append(Commands([cmd], write_ahead=prefix == 'osd down'))
    return left


def _osd_headline(cluster_name: str, osd_id: int, attrs: Dict[str, Any]) -> str:
    daemon = f'{cluster_name}-osd.{osd_id}'
    if list(attrs) == ['in']:
        return f"Marking {daemon} {'in' if attrs['in'] else 'out'}"
    if list(attrs) == ['up']:
        return f"Marking {daemon} {'up' if attrs['up'] else 'down'}"
    if list(attrs) == ['reweight']:
        return f"Re-weighting {daemon} to {attrs['reweight'] * 100:.1f}%"
    return f"Modifying {daemon} ({', '.join(f'{k}={v}' for k, v in attrs.items())})"


def command_operation(osd: Optional[Dict[str, Any]], osd_id: int, command: str, cluster_name: str) -> Operation:
    """403 ``"<command> not valid on <id>"`` unless the command exists and the OSD is up."""
    if command not in OSD_COMMANDS or osd is None or not osd.get('up'):
        raise ApiError(403, f'{command} not valid on {osd_id}')
    verb = OSD_COMMANDS[command]
    command = {'prefix': f'osd {verb}', 'who': str(osd_id)}
    return Operation(f'Initiating {verb} on {cluster_name}-osd.{osd_id}', [Commands([command])], fsid=None,
                     changes_maps=False, resume=Resume('commands', {'commands': [command]}))


def current_flags(osd_map: Optional[Mapping[str, Any]]) -> Dict[str, bool]:
    names = set(str((osd_map or {}).get('flags', '')).split(','))
    if {'pauserd', 'pausewr'} <= names:
        names.add('pause')
    return {flag: flag in names for flag in OSD_FLAGS}


def flags_operation(body: Dict[str, Any], osd_map: Optional[Mapping[str, Any]], cluster_name: str,
                    fsid: str) -> Optional[Operation]:
    """Unknown keys are 403 (as in Calamari); non-booleans 400; None when nothing changes (304)."""
    unknown = check_allowed(body, list(OSD_FLAGS), 'PATCH')
    raise_if(unknown, 403)
    attrs: Dict[str, bool] = {}
    errors: Dict[str, Any] = {}
    for key, value in body.items():
        flag = field_bool(value)
        if flag is None:
            errors[key] = NOT_BOOLEAN
        else:
            attrs[key] = flag
    raise_if(errors)
    current = current_flags(osd_map)
    commands = [{'prefix': 'osd set' if value else 'osd unset', 'key': flag}
                for flag, value in attrs.items() if current[flag] != value]
    if not commands:
        return None
    described = ', '.join(f'{k}={v}' for k, v in attrs.items())
    return Operation(f'Modifying OSD config {cluster_name} ({described})', [Commands(commands)], fsid=fsid,
                     resume=Resume('osd_flags', {'flags': {c['key']: c['prefix'] == 'osd set' for c in commands}}))


def resume_flags(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """Set/unset (idempotent) the flags that are not as asked yet."""
    current = current_flags(cluster.source('osd_map'))
    commands = [{'prefix': 'osd set' if value else 'osd unset', 'key': flag}
                for flag, value in args['flags'].items() if current.get(flag) != value]
    return [Commands(commands)] if commands else []
