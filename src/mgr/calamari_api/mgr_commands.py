"""Commands the mgr itself serves (``pg dump``, ``osd perf``, ``osd pool stats``), answered from the mgr's own
data with the JSON the ``ceph`` CLI prints for them.

The mon's command table flags these as the mgr's.  Sent by a module, they go to the mon, which passes them back
to the mgr only where the mgr's own caps allow: ``pg dump`` gets "access denied" (Zabbix's ``ceph.osd.stats``
broke on it with restful), ``osd perf`` and ``osd pool stats`` a round trip through the mon (seen on Pacific).
They are the mgr commands among those Zabbix agent 2's Ceph plugin and Metricbeat's ``ceph`` mgr metricsets send;
the others (``status``, ``health``, ``df``, ``osd dump``, ``osd tree``, ``osd crush tree``, ``osd crush rule
dump``) are the mon's on Pacific and Tentacle alike.  Every other command gets None here and goes to the mon.

``answer`` reads what a command needs with ``mgr.get()`` (never changing what get() returns); the pure functions
below turn those maps into the CLI's JSON.  Only JSON formats are answered (the CLI's plain text is not)."""
import errno
import json
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from . import compat

if TYPE_CHECKING:
    from .services import Services

JSON_FORMATS = ('json', 'json-pretty')
Result = Tuple[int, Any, str]           # (return code, value to print as JSON or None, outs)


# -- pure conversions: mgr.get() maps -> what the CLI prints -------------------------------------------------
Maps = Mapping[str, Any]
Command = Mapping[str, Any]


def pg_dump(maps: Maps, command: Command, shape: compat.CliShape) -> Result:
    """``pg dump [all]``: the PG map (on Pacific with each OSD's network ping times, as its CLI shows them)."""
    pg_map = maps['pg_dump']
    if shape.pg_dump_ping_times:
        ping_times = {entry.get('osd'): entry for entry in maps['osd_ping_times'].get('osd_ping_times') or []}
        osd_stats = [dict(stat, network_ping_times=compat.network_ping_times(ping_times.get(stat.get('osd'))))
                     for stat in pg_map.get('osd_stats') or []]
        pg_map = dict(pg_map, osd_stats=osd_stats)
    return 0, {'pg_ready': _pg_ready(maps), 'pg_map': pg_map}, 'dumped all'


def osd_perf(maps: Maps, command: Command, shape: compat.CliShape) -> Result:
    """``osd perf``: each OSD's commit/apply latencies (from its stats).  The CLI lists the OSDs in the order of
    a hash table (highest id first on the clusters seen); this lists them highest id first."""
    stats = sorted(maps['osd_stats'].get('osd_stats') or [], key=lambda stat: stat['osd'], reverse=True)
    infos = [{'id': stat['osd'], 'perf_stats': compat.osd_perf_stats(stat.get('perf_stat') or {})}
             for stat in stats]
    return 0, {'pg_ready': _pg_ready(maps), 'osdstats': {'osd_perf_infos': infos}}, ''


def osd_pool_stats(maps: Maps, command: Command, shape: compat.CliShape) -> Result:
    """``osd pool stats [<pool_name>]``: recovery and client I/O rates of every pool, or of one."""
    stats = maps['osd_pool_stats'].get('pool_stats') or []
    name = command.get('pool_name')
    if name is None:
        return 0, list(stats), ''
    chosen = [stat for stat in stats if stat.get('pool_name') == name]
    if not chosen:
        return -errno.ENOENT, None, f"unrecognized pool '{name}'"
    return 0, chosen, ''


def _pg_ready(maps: Maps) -> bool:
    return bool(maps['pg_ready'].get('pg_ready'))


def _pg_dump_all(command: Command) -> bool:
    contents = command.get('dumpcontents')
    if isinstance(contents, str):
        contents = [contents]
    return not contents or list(contents) == ['all']


class MgrCommand(NamedTuple):
    sources: Sequence[str]                                              # the mgr.get() names it reads
    convert: Callable[[Maps, Command, compat.CliShape], Result]
    accepts: Callable[[Command], bool] = lambda command: True           # the arguments reproduced here


COMMANDS: Dict[str, MgrCommand] = {
    'pg dump': MgrCommand(('pg_dump', 'osd_ping_times', 'pg_ready'), pg_dump, _pg_dump_all),
    'osd perf': MgrCommand(('osd_stats', 'pg_ready'), osd_perf),
    'osd pool stats': MgrCommand(('osd_pool_stats',), osd_pool_stats),
}


def render(value: Any, fmt: str) -> str:
    """The CLI's JSON text for a value (``json-pretty`` indents as Ceph's formatter does)."""
    value = ceph_numbers(value)
    if fmt == 'json-pretty':
        return json.dumps(value, indent=4) + '\n'
    return json.dumps(value, separators=(',', ':'))


def ceph_numbers(value: Any) -> Any:
    """A copy with each integral float as an int: Ceph's JSON formatter prints ``0``, not ``0.0``, and clients
    read such fields as integers (Zabbix's Go plugin fails on ``0.0`` for a uint64 latency)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {key: ceph_numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [ceph_numbers(item) for item in value]
    return value


def source_names() -> List[str]:
    """Every mgr.get() name the commands read."""
    return sorted({name for spec in COMMANDS.values() for name in spec.sources})


# -- the edge: read the maps, convert ------------------------------------------------------------------------
def answer(services: 'Services', command: Dict[str, Any],
           shape: compat.CliShape = compat.RUNNING_CLI_SHAPE) -> Optional[Tuple[int, str, str]]:
    """(r, outb, outs) for a mgr-served command this module reproduces, None for anything else (send it to the
    mon).  ``command`` is a mon-command dict (``prefix``, ``format``, its arguments); ``shape``: the release
    whose CLI output to reproduce (the running one)."""
    spec = COMMANDS.get(str(command.get('prefix') or ''))
    fmt = command.get('format')
    if spec is None or fmt not in JSON_FORMATS or not spec.accepts(command):
        return None
    maps = {name: services.mgr.get(name) for name in spec.sources}
    if any(not isinstance(maps[name], Mapping) for name in spec.sources):
        return -errno.EAGAIN, '', 'the mgr has no PG statistics yet'
    r, value, outs = spec.convert(maps, command, shape)
    return r, ('' if value is None else render(value, fmt)), outs
