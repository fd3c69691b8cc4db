"""A fake ``ceph_module`` so the real /usr/share/ceph/mgr/mgr_module.py can be imported outside ceph-mgr,
fed with data captured from a real cluster (tests/fixtures/cluster.json, made by tools/capture-fixtures)."""
import copy
import json
import os
import subprocess
import sys
import tempfile
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TESTS)
FIXTURES = os.path.join(TESTS, 'fixtures')
MGR_PATH = os.environ.get('CEPH_MGR_PATH', '/usr/share/ceph/mgr')
FIXTURE = os.path.join(FIXTURES, 'cluster.json')
CRUSH_TEXT = os.path.join(FIXTURES, 'crushmap.txt')     # the fixture's CRUSH map, exact weights


def load_fixture(path: str = FIXTURE) -> Dict[str, Any]:
    with open(path) as f:
        return json.load(f)


class FakeRados:
    """``MgrModule.rados`` stand-in: ``mon_command(cmd, inbuf)`` answered by ``handler(cmd, inbuf)`` (default:
    ``osd getcrushmap`` gives the fixture's map compiled with crushtool, ``osd setcrushmap`` is accepted and
    makes the next crush version, in the fake's OSD map too).  ``calls`` records (command dict, inbuf)."""

    def __init__(self, maps: Dict[str, Any]) -> None:
        self.maps = maps
        self.calls: List[Tuple[Dict[str, Any], bytes]] = []
        self.handler: Optional[Callable[[Dict[str, Any], bytes], Tuple[int, bytes, str]]] = None
        self.crush_version = maps.get('osd_map', {}).get('crush_version', 1)
        self._binary: Optional[bytes] = None

    def crush_binary(self) -> bytes:
        if self._binary is None:
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, 'map.bin')
                subprocess.run(['crushtool', '-c', CRUSH_TEXT, '-o', out], check=True, capture_output=True)
                with open(out, 'rb') as f:
                    self._binary = f.read()
        return self._binary

    def mon_command(self, cmd: str, inbuf: bytes, timeout: int = 0, target: Any = None) -> Tuple[int, bytes, str]:
        command = json.loads(cmd)
        self.calls.append((command, inbuf))
        if self.handler is not None:
            return self.handler(command, inbuf)
        if command['prefix'] == 'osd getcrushmap':
            try:
                return 0, self.crush_binary(), str(self.crush_version)
            except (OSError, subprocess.CalledProcessError) as e:
                return -2, b'', f'no crushtool: {e}'
        if command['prefix'] == 'osd setcrushmap':
            self.crush_version += 1
            self.maps['osd_map']['crush_version'] = self.crush_version
            return 0, b'', str(self.crush_version)
        return -22, b'', f"command '{command['prefix']}' not faked"

    def get_addrs(self) -> str:
        return ''

    def shutdown(self) -> None:
        pass


class FrozenDict(dict):
    """A dict that refuses changes (what ``get()`` returns on Ceph's main branch); copies are ordinary dicts."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError('the data get() returns is read-only')

    __setitem__ = __delitem__ = setdefault = update = pop = popitem = clear = __ior__ = _refuse   # type: ignore

    def copy(self) -> Dict[str, Any]:               # type: ignore[override]
        return dict(self)

    def __deepcopy__(self, memo: Any) -> Dict[str, Any]:
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}


class FrozenList(list):
    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError('the data get() returns is read-only')

    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = _refuse  # type: ignore
    reverse = _refuse   # type: ignore
    __iadd__ = __imul__ = _refuse       # type: ignore

    def copy(self) -> List[Any]:                    # type: ignore[override]
        return list(self)

    def __deepcopy__(self, memo: Any) -> List[Any]:
        return [copy.deepcopy(v, memo) for v in self]


class Options(dict):
    """A module's options: a change calls ``changed()``, as ceph-mgr calls the module's ``config_notify``."""

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def _notifying(name: str) -> Any:       # type: ignore[misc]
        def method(self: 'Options', *args: Any, **kwargs: Any) -> Any:
            result = getattr(dict, name)(self, *args, **kwargs)
            self._changed()
            return result
        return method

    __setitem__ = _notifying('__setitem__')
    __delitem__ = _notifying('__delitem__')
    update = _notifying('update')
    pop = _notifying('pop')
    setdefault = _notifying('setdefault')
    clear = _notifying('clear')


def freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return FrozenDict((k, freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return FrozenList(freeze(v) for v in value)
    return value


class FakeBaseMgrModule:
    """Stands in for ceph_module.BaseMgrModule: cluster data from a dict, store and options in dicts,
    commands answered by a pluggable ``command_handler`` and completed synchronously (or held)."""

    def __init__(self, py_modules_ptr: Any = None, this_ptr: Any = None) -> None:
        self.maps: Dict[str, Any] = copy.deepcopy(load_fixture())
        self.store: Dict[str, str] = {}
        self.options: Dict[str, Any] = Options(self._options_changed)
        self.sent_commands: List[Tuple[str, str, Dict[str, Any], str]] = []
        self.sent_json: List[str] = []          # the commands as the mgr got them (the JSON text)
        self.command_handler: Optional[Callable[[Dict[str, Any]], Tuple[int, str, str]]] = None
        self.hold_commands = False
        self.held: List[Tuple[Any, str]] = []
        self.uri = ''
        self.health_checks: Dict[str, Any] = {}
        self.cluster_logs: List[Tuple[str, int, str]] = []
        self.fake_rados = FakeRados(self.maps)

    @property
    def _rados(self) -> FakeRados:
        """MgrModule.rados returns ``self._rados`` when set: always the fake (MgrModule's ``= None`` is ignored)."""
        return self.fake_rados

    @_rados.setter
    def _rados(self, value: Any) -> None:
        pass

    def _ceph_unregister_client(self, addrs: Any) -> None:
        pass

    # -- data ----------------------------------------------------------------------------------
    def _ceph_get(self, name: str) -> Any:
        """Read-only, as Ceph's main branch makes get() unless ``mutable=True``: the module must never change it."""
        return freeze(self.maps.get(name))

    def _ceph_get_latest_counter(self, svc_type: str, svc_id: str, path: str) -> Dict[str, Any]:
        return {}       # (tests replace it)

    def _ceph_get_latest_unlabeled_counter(self, svc_type: str, svc_id: str, path: str) -> Dict[str, Any]:
        """Tentacle's name for Pacific's three-argument get_latest_counter."""
        return self._ceph_get_latest_counter(svc_type, svc_id, path)

    def _ceph_get_metadata(self, svc_type: str, svc_id: str) -> Optional[Dict[str, str]]:
        source = {'osd': self.maps.get('osd_metadata', {}), 'mon': self.maps.get('mon_metadata', {}),
                  'mds': self.maps.get('mds_metadata', {}), 'mgr': self.maps.get('mgr_metadata', {})}
        return copy.deepcopy((source.get(svc_type) or {}).get(svc_id))

    def _ceph_get_server(self, hostname: Optional[str]) -> Any:
        servers = copy.deepcopy(self.maps.get('servers', []))
        if hostname is None:
            return servers
        for server in servers:
            if server['hostname'] == hostname:
                return server
        return {'hostname': hostname, 'ceph_version': '', 'services': []}

    def _ceph_get_daemon_status(self, svc_type: str, svc_id: str) -> Dict[str, str]:
        return {}

    def _ceph_get_osdmap(self) -> Any:
        raise NotImplementedError('the API does not use the C++ OSDMap object')

    # -- options, store ------------------------------------------------------------------------
    def _ceph_get_option(self, key: str) -> Any:
        return {'debug_mgr': '1/5', 'fsid': self.maps['mon_map']['fsid']}.get(key, self.maps['config'].get(key))

    def _ceph_get_foreign_option(self, entity: str, key: str) -> Any:
        return self.maps['config'].get(key)

    def _ceph_get_module_option(self, module: str, key: str, localized_prefix: str = '') -> Any:
        """This module's options by name; another module's as ``"<module>/<key>"``."""
        return self.options.get(key if module == self.module_name else f'{module}/{key}')

    def _options_changed(self) -> None:
        notify = getattr(self, 'config_notify', None)
        if notify is not None:
            notify()

    def _ceph_set_module_option(self, module: str, key: str, val: Any) -> None:
        self.options[key] = val

    def _ceph_get_store(self, key: str) -> Optional[str]:
        return self.store.get(key)

    def _ceph_set_store(self, key: str, val: Optional[str]) -> None:
        if val is None:
            self.store.pop(key, None)
        else:
            self.store[key] = val

    def _ceph_get_store_prefix(self, prefix: str) -> Dict[str, str]:
        return {k: v for k, v in self.store.items() if k.startswith(prefix)}

    # -- commands ------------------------------------------------------------------------------
    def _ceph_send_command(self, result: Any, svc_type: str, svc_id: str, command: str, tag: str,
                           inbuf: Optional[str] = None, one_shot: bool = False) -> None:    # (one_shot: Tentacle)
        cmd = json.loads(command)
        self.sent_json.append(command)
        self.sent_commands.append((svc_type, svc_id, cmd, tag))
        if self.hold_commands:
            self.held.append((result, tag, cmd))
            return
        self.complete(result, tag, cmd)

    def complete(self, result: Any, tag: str, cmd: Dict[str, Any]) -> None:
        r, outb, outs = self.command_handler(cmd) if self.command_handler else (0, '', '')
        result.complete(r, outb, outs)
        if tag and hasattr(self, 'notify'):
            self.notify('command', tag)

    def release_held(self) -> None:
        held, self.held = self.held, []
        for result, tag, cmd in held:
            self.complete(result, tag, cmd)

    # -- misc ----------------------------------------------------------------------------------
    def _ceph_get_mgr_id(self) -> str:
        return 'x'

    def _ceph_get_version(self) -> str:
        return 'ceph version 16.2.15 (618f440892089921c3e944a991122ddc44e60516) pacific (stable)'

    def _ceph_get_release_name(self) -> str:
        return 'pacific'

    def _ceph_get_context(self) -> Any:
        return None

    def _ceph_get_ceph_conf_path(self) -> str:
        return '/dev/null'

    def _ceph_set_uri(self, uri: str) -> None:
        self.uri = uri

    def _ceph_set_health_checks(self, checks: Any) -> None:
        self.health_checks = checks

    def _ceph_cluster_log(self, channel: str, priority: int, message: str) -> None:
        self.cluster_logs.append((channel, priority, message))

    def _ceph_log(self, *args: Any) -> None:
        pass

    def _ceph_have_mon_connection(self) -> bool:
        return True

    def _ceph_get_active_uri(self) -> str:
        return ''

    def _ceph_is_authorized(self, arguments: Any) -> bool:
        return True

    def _ceph_dispatch_remote(self, *args: Any) -> Any:
        raise ImportError('no remote modules in unit tests')


def install() -> None:
    """Make ``import mgr_module`` work: fake ceph_module, real mgr_module.py, our module on the path."""
    if 'ceph_module' in sys.modules:
        return
    fake = types.ModuleType('ceph_module')
    fake.BaseMgrModule = FakeBaseMgrModule
    fake.BaseMgrStandbyModule = FakeBaseMgrModule
    fake.BasePyOSDMap = object
    fake.BasePyOSDMapIncremental = object
    fake.BasePyCRUSH = object
    sys.modules['ceph_module'] = fake
    # this checkout's module first: a calamari_api installed in the stock module folder must not shadow it
    for path in (MGR_PATH, os.path.join(REPO, 'src', 'mgr')):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)
