"""Derived cluster views shared by controllers, each built once per map change via ``ClusterState.derived``.

Import these rather than re-deriving: ``osd_map_view(cluster)`` (OSDs, pools, rules, flags and their
lookups: ``.osd_by_id``, ``.pool_by_id``, ``.pool_by_name``, ``.rule_by_id``, ``.rulesets``, ``.osds_by_pool``),
``effective_config(services)``, ``quorum_status(services)``, ``crush_map_text(services)``.
"""
import json
import os
import subprocess
import tempfile
import threading
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from .cluster import OSD_MAP_DEPS, RULE_DEPS
from .compat import RULE_SIZE_DEFAULTS
from .views import config as config_views
from .views.crush import with_kept_sizes
from .views.crush_text import exact_weights
from .views.osd import OsdMapView

if TYPE_CHECKING:
    from mgr_module import MgrModule
    from .cluster import ClusterState
    from .services import Services

MON_TIMEOUT = 5.0
CRUSHTOOL_TIMEOUT = 10.0


class CrushMapUnavailable(Exception):
    pass


class CrushCompileError(Exception):
    """``crushtool -c`` refused the text (the message is crushtool's)."""


def osd_map_view(cluster: 'ClusterState') -> OsdMapView:
    return cluster.derived('osd_map_view', OSD_MAP_DEPS, lambda: OsdMapView(
        *(cluster.source(name) for name in OSD_MAP_DEPS)))


def crush_rules(cluster: 'ClusterState') -> List[Dict[str, Any]]:
    """The rule objects, with the kept sizes where CRUSH has none (compat.RULE_SIZE_DEFAULTS)."""
    return cluster.derived('crush_rules', RULE_DEPS, lambda: with_kept_sizes(
        osd_map_view(cluster).rules, cluster.source('crush_rule_sizes'), RULE_SIZE_DEFAULTS))


def mon_query(services: 'Services', command: Dict[str, Any], timeout: float = MON_TIMEOUT) -> Tuple[int, str, str]:
    """A read-only mon command with a timeout (``MgrModule.mon_command`` waits forever without quorum), sent by
    the module's query thread (mon_queries.py).  Returns (-110, '', 'timed out') when the mon does not answer."""
    return services.mon_queries.query(command, timeout)


def _json_query(services: 'Services', command: Dict[str, Any]) -> Optional[Any]:
    r, outb, _ = mon_query(services, dict(command, format='json'))
    if r != 0:
        return None
    try:
        return json.loads(outb)
    except ValueError:
        return None


def quorum_status(services: 'Services') -> Optional[Dict[str, Any]]:
    """``quorum_status`` (a mon command), cached until the monmap or mon_status changes; None if unanswered."""
    return services.cluster.derived('quorum_status', ('mon_map', 'mon_status'),
                                    lambda: _json_query(services, {'prefix': 'quorum_status'}))


def effective_config(services: 'Services') -> Optional[Dict[str, str]]:
    """The configuration the mons act on, as well as a mgr module can know it (see views/config.py).
    ``config dump`` is a mon round trip, so the result is cached for as long as the ``config`` source
    (at most 10 s)."""
    cluster = services.cluster

    def build() -> Optional[Dict[str, str]]:
        mgr_config = cluster.source('config')
        if mgr_config is None:
            return None
        names = config_views.db_option_names(_json_query(services, {'prefix': 'config dump'}))
        return config_views.effective_config(mgr_config, _mon_values(services.mgr, names, _mon_entity(cluster)))
    return cluster.derived('effective_config', ('config',), build)


def _mon_entity(cluster: 'ClusterState') -> str:
    name = (cluster.source('mon_status') or {}).get('name')
    if not name:
        mons = (cluster.source('mon_map') or {}).get('mons') or [{}]
        name = mons[0].get('name', 'a')
    return f'mon.{name}'


def _mon_values(mgr: 'MgrModule', names: Any, mon_entity: str) -> Dict[str, Any]:
    mgr_entity = f'mgr.{mgr.get_mgr_id()}'
    values: Dict[str, Any] = {}
    for name in names:
        try:
            value = config_views.mon_value(mgr.get_ceph_option(name), mgr.get_foreign_ceph_option(mgr_entity, name),
                                           mgr.get_foreign_ceph_option(mon_entity, name))
        except Exception:           # KeyError for an unknown option; the C++ side may raise others
            continue
        if value is not None:
            values[name] = value
    return values


def fetch_crush_binary(mgr: 'MgrModule', timeout: float = MON_TIMEOUT) -> bytes:
    """``osd getcrushmap`` through librados (``send_command`` truncates binary output at the first NUL)."""
    return fetch_crush_versioned(mgr, timeout)[0]


def fetch_crush_versioned(mgr: 'MgrModule', timeout: float = MON_TIMEOUT) -> Tuple[bytes, Optional[int]]:
    """The binary CRUSH map and its version (``osd getcrushmap`` prints it in outs), for ``prior_version``."""
    box: Dict[str, Any] = {}

    def run() -> None:
        try:
            box['result'] = mgr.rados.mon_command(json.dumps({'prefix': 'osd getcrushmap'}), b'')
        except Exception as e:      # librados raises its own error types
            box['error'] = e
    worker = threading.Thread(target=run, name='calamari-getcrushmap', daemon=True)
    worker.start()
    worker.join(timeout)
    if 'error' in box:
        raise CrushMapUnavailable(f'osd getcrushmap failed: {box["error"]}')
    if 'result' not in box:
        raise CrushMapUnavailable('osd getcrushmap timed out')
    r, outb, outs = box['result']
    if r != 0:
        raise CrushMapUnavailable(f'osd getcrushmap failed ({r}): {outs}')
    try:
        version: Optional[int] = int(str(outs).strip())
    except ValueError:
        version = None
    return outb, version


def _crushtool(args: Any, data: bytes, timeout: float, what: str) -> bytes:
    """Run crushtool on ``data`` (written to a temporary file, whose path replaces ``{}`` in args)."""
    fd, path = tempfile.mkstemp(prefix='calamari-crush-')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        proc = subprocess.run(['crushtool'] + [path if a == '{}' else a for a in args], capture_output=True,
                              timeout=timeout)
    except FileNotFoundError:
        raise CrushMapUnavailable('crushtool is not installed (package ceph-base)')
    except subprocess.TimeoutExpired:
        raise CrushMapUnavailable(f'crushtool {what} timed out')
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).decode('utf-8', 'replace').strip()
        if what == '-c':
            raise CrushCompileError(message.replace(path, 'crush map'))
        raise CrushMapUnavailable(f'crushtool {what} failed: {message}')
    return proc.stdout


def compile_crush(text: str, timeout: float = CRUSHTOOL_TIMEOUT) -> bytes:
    """``crushtool -c``: CrushCompileError with crushtool's message if the text is not a valid map."""
    fd, out_path = tempfile.mkstemp(prefix='calamari-crush-bin-')
    os.close(fd)
    try:
        _crushtool(['-c', '{}', '-o', out_path], text.encode('utf-8'), timeout, '-c')
        with open(out_path, 'rb') as f:
            return f.read()
    finally:
        os.unlink(out_path)


def dump_crush(binary: bytes, timeout: float = CRUSHTOOL_TIMEOUT) -> Dict[str, Any]:
    """``crushtool -i <map> --dump`` (the same JSON as ``osd crush dump``)."""
    out = _crushtool(['-i', '{}', '--dump', '-f', 'json'], binary, timeout, '--dump')
    try:
        return json.loads(out)
    except ValueError as e:
        raise CrushMapUnavailable(f'crushtool --dump gave no JSON: {e}')


def crush_text_of(binary: bytes, dump: Optional[Dict[str, Any]] = None) -> str:
    """The decompiled map with exact item weights (views/crush_text.py), so that it compiles back losslessly.
    ``dump``: the map's ``crushtool --dump``, when the caller already has it."""
    return exact_weights(decompile_crush(binary), dump if dump is not None else dump_crush(binary))


def decompile_crush(binary: bytes, timeout: float = CRUSHTOOL_TIMEOUT) -> str:
    """``crushtool -d`` on a binary CRUSH map."""
    return _crushtool(['-d', '{}'], binary, timeout, '-d').decode('utf-8', 'replace')


def crush_map_text(services: 'Services') -> str:
    """The decompiled CRUSH map, fetched and decompiled once per OSD map change.
    Raises CrushMapUnavailable (not cached, so the next request tries again)."""
    return services.cluster.derived('crush_map_text', ('osd_map',),
                                    lambda: crush_text_of(fetch_crush_binary(services.mgr)))
