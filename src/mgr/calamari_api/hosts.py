"""Hosts without Salt: the servers ceph-mgr knows, when their daemons last reported, their admission
("key") state and their facts ("grains").

* Servers come from daemon metadata (``list_servers()``) plus CRUSH host buckets of OSDs that never reported.
* Last contact is the newest perf-counter report any of the host's daemons sent the mgr (daemons report
  every ``mgr_stats_period``; the latest counter value carries the receive time of the last report).
* Keys: with an orchestrator backend, accepted = in the orchestrator's host list; otherwise the states live
  in the KV store (``keys/<fqdn>``), and hosts first seen start ``accepted`` (``auto_accept_keys``) or ``pre``.
"""
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from .cluster import isoformat
from .compat import latest_counter
from .views.events import quorum_summary
from .views.server import Host, build_hosts, running_sets

if TYPE_CHECKING:
    from mgr_module import MgrModule
    from .cluster import ClusterState
    from .store import KVStore

log = logging.getLogger(__name__)

KEY_PREFIX = 'keys/'
FORGOTTEN_KEY = 'hosts/forgotten'
KEY_STATES = ('pre', 'accepted', 'rejected')
CONTACT_CACHE_SECONDS = 5.0
REPORT_PERIOD_SECONDS = 5.0       # mgr_stats_period: every running daemon reports this often
ORCH_CACHE_SECONDS = 30.0
# A counter every daemon of that type sends with each report.
REPORT_COUNTER = {'osd': 'osd.op_w', 'mon': 'mon.num_sessions', 'mgr': 'mgr.cache_hit', 'mds': 'mds.request'}
INVENTORY_DEPS = ('servers', 'osd_map', 'osd_map_tree', 'osd_metadata', 'mon_map', 'mon_status', 'fs_map',
                  'mgr_map')


class KeyStateError(Exception):
    """An invalid key operation; ``body`` is Calamari's error detail."""

    def __init__(self, body: Any) -> None:
        super().__init__(str(body))
        self.body = body


class Hosts:
    def __init__(self, mgr: 'MgrModule', cluster: 'ClusterState', store: 'KVStore', option: Callable[[str], Any],
                 clock: Callable[[], float] = time.time) -> None:
        self._mgr = mgr
        self._cluster = cluster
        self._store = store
        self._option = option
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Dict[str, str] = {k: v for k, v in store.prefix_json(KEY_PREFIX).items() if v in KEY_STATES}
        self._forgotten: Dict[str, float] = store.get_json(FORGOTTEN_KEY, {}) or {}
        self._contacts: Optional[Dict[str, float]] = None
        self._contacts_at = 0.0
        self._orch: Optional[List[str]] = None
        self._orch_at = 0.0
        self._orch_backend: Any = None

    # -- inventory --------------------------------------------------------------------------------
    def all_hosts(self) -> Dict[str, Host]:
        """Every host known from the maps, forgotten ones included (see ``hosts()``)."""
        cluster = self._cluster

        def build() -> Dict[str, Host]:
            quorum, _ = quorum_summary(cluster.source('mon_status'))
            osd_map = cluster.source('osd_map') or {}
            running = running_sets(osd_map, quorum, cluster.source('fs_map'), cluster.source('mgr_map'))
            return build_hosts(cluster.source('servers') or [], osd_map, cluster.source('osd_map_tree'),
                               cluster.source('osd_metadata') or {}, cluster.source('mon_map') or {}, running)
        return cluster.derived('hosts', INVENTORY_DEPS, build)

    def hosts(self) -> Dict[str, Host]:
        """Hosts the API shows: a forgotten host stays hidden until one of its daemons reports again."""
        hosts = self.all_hosts()
        if not self._forgotten:
            return hosts
        contacts = self.last_contacts()
        return {fqdn: host for fqdn, host in hosts.items()
                if fqdn not in self._forgotten or contacts.get(fqdn, 0) > self._forgotten[fqdn]}

    def get(self, fqdn: str) -> Optional[Host]:
        return self.hosts().get(fqdn)

    def forget(self, fqdn: str) -> None:
        """DELETE server: drop what we hold about the host (it comes back if its daemons still report)."""
        with self._lock:
            self._forgotten[fqdn] = self._clock()
            self._keys.pop(fqdn, None)
            forgotten = dict(self._forgotten)
        self._store.set_json(FORGOTTEN_KEY, forgotten)
        self._store.delete(KEY_PREFIX + fqdn)
        self._cluster.touch('keys')

    def managed(self, host: Host) -> bool:
        """Managed = its daemons report to the mgr and its key is accepted."""
        return host.reporting and self.key_status(host.fqdn) == 'accepted'

    # -- contact ----------------------------------------------------------------------------------
    def last_contacts(self) -> Dict[str, float]:
        """fqdn → time of the newest daemon report the mgr received from that host (cached a few seconds)."""
        now = self._clock()
        with self._lock:
            if self._contacts is not None and now - self._contacts_at < CONTACT_CACHE_SECONDS:
                return self._contacts
        contacts: Dict[str, float] = {}
        for fqdn, host in self.all_hosts().items():
            if not host.reporting:
                continue
            newest = 0.0
            for service in host.services:      # mons and mgrs first; stop at a report from this period
                stamp = self._report_time(service.type, service.id) or 0.0
                newest = max(newest, stamp)
                if now - newest < REPORT_PERIOD_SECONDS:
                    break
            if newest:
                contacts[fqdn] = newest
        with self._lock:
            self._contacts, self._contacts_at = contacts, now
        return contacts

    def _report_time(self, svc_type: str, svc_id: str) -> Optional[float]:
        counter = REPORT_COUNTER.get(svc_type)
        if not counter:
            return None
        try:
            value = latest_counter(self._mgr, svc_type, svc_id, counter)
        except Exception:
            return None
        return float(value[0]) if value and value[0] else None

    def last_contact(self, fqdn: str) -> Optional[str]:
        stamp = self.last_contacts().get(fqdn)
        return isoformat(stamp) if stamp else None

    def boot_time(self, fqdn: str) -> Optional[str]:
        """Only the mgr's own host has a real source (``/proc/stat`` btime)."""
        if fqdn != self.local_fqdn():
            return None
        try:
            with open('/proc/stat') as f:
                for line in f:
                    if line.startswith('btime '):
                        return isoformat(int(line.split()[1])).replace('.000000', '')
        except OSError:
            pass
        return None

    def local_fqdn(self) -> str:
        try:
            meta = self._mgr.get_metadata('mgr', self._mgr.get_mgr_id()) or {}
        except Exception:
            meta = {}
        return meta.get('hostname') or os.uname().nodename

    # -- keys -------------------------------------------------------------------------------------
    def orchestrator_hosts(self) -> Optional[List[str]]:
        """The orchestrator's host names, or None when no orchestrator backend is active (cached)."""
        now = self._clock()
        # Without a backend, every orchestrator call raises NoOrchestrator, which ceph-mgr logs as an error with
        # a traceback: ask only when a backend is set (what `ceph orch status` reads).  A new backend is asked
        # at once; the same backend's host list is cached for a while.
        try:
            backend = self._mgr.get_module_option_ex('orchestrator', 'orchestrator')
        except Exception:
            backend = None
        with self._lock:
            if self._orch_at and now - self._orch_at < ORCH_CACHE_SECONDS and backend == self._orch_backend:
                return self._orch
        hosts: Optional[List[str]] = None
        try:
            available = self._mgr.remote('orchestrator', 'available') if backend else False
            if available[0] if isinstance(available, (tuple, list)) else available:
                result = self._mgr.remote('orchestrator', 'get_hosts')
                if getattr(result, 'exception', None):
                    raise result.exception
                specs = getattr(result, 'result', result) or []
                names = [getattr(s, 'hostname', None) or (s.get('hostname') if isinstance(s, dict) else None)
                         for s in specs]
                hosts = [n for n in names if n]
        except Exception as e:
            log.debug('no orchestrator backend: %s', e)
        with self._lock:
            self._orch, self._orch_at, self._orch_backend = hosts, now, backend
        return hosts

    def _default_state(self) -> str:
        return 'accepted' if self._option('auto_accept_keys') in (None, True) else 'pre'

    def key_status(self, fqdn: str) -> str:
        return self._key_status(fqdn, self.orchestrator_hosts())

    def _key_status(self, fqdn: str, orch: Optional[List[str]]) -> str:
        with self._lock:
            stored = self._keys.get(fqdn)
        if orch is not None:
            return 'accepted' if fqdn in orch else (stored if stored in ('pre', 'rejected') else 'pre')
        return stored or self._default_state()

    def keys(self) -> Dict[str, str]:
        """Every host that has (or had) a key: reporting hosts, stored states and the orchestrator's hosts (like
        a Salt minion with no Ceph daemon, an orchestrator host without daemons has an accepted key)."""
        orch = self.orchestrator_hosts()        # once, not per host
        ids = {fqdn for fqdn, host in self.hosts().items() if host.reporting}
        ids |= set(orch or [])
        with self._lock:
            ids |= set(self._keys)
        return {fqdn: self._key_status(fqdn, orch) for fqdn in sorted(ids)}

    def register(self, fqdns: List[str]) -> None:
        """Persist the first-seen state of new hosts (so a later option change does not alter them)."""
        state = self._default_state()
        added = False
        for fqdn in fqdns:
            with self._lock:
                if fqdn in self._keys:
                    continue
                self._keys[fqdn] = state
            self._store.set_json(KEY_PREFIX + fqdn, state)
            added = True
        if added:
            self._cluster.touch('keys')

    def check_transition(self, fqdn: str, status: str) -> None:
        """KeyStateError unless the key is ``pre`` (only a pending key may be accepted or rejected)."""
        current = self.key_status(fqdn)
        if current != 'pre':
            raise KeyStateError({'status': [f'Transition {current}->{status} is invalid']})

    def set_key(self, fqdn: str, status: str) -> None:
        self.check_transition(fqdn, status)
        if status == 'accepted' and self.orchestrator_hosts() is not None:
            self._orchestrator('add_host', fqdn)
        with self._lock:
            self._keys[fqdn] = status
        self._store.set_json(KEY_PREFIX + fqdn, status)
        self._cluster.touch('keys')

    def delete_key(self, fqdn: str) -> None:
        """Like deleting a salt key: a host that still reports comes back as ``pre`` (its key resubmitted)."""
        orch = self.orchestrator_hosts()
        if orch is not None and fqdn in orch:
            self._orchestrator('remove_host', fqdn)
        reporting = fqdn in self.hosts() and self.hosts()[fqdn].reporting
        with self._lock:
            if reporting:
                self._keys[fqdn] = 'pre'
            else:
                self._keys.pop(fqdn, None)
        if reporting:
            self._store.set_json(KEY_PREFIX + fqdn, 'pre')
        else:
            self._store.delete(KEY_PREFIX + fqdn)
        self._cluster.touch('keys')

    def _orchestrator(self, method: str, fqdn: str) -> None:
        """Add/remove a host through the orchestrator (only with an active backend)."""
        if method == 'add_host':
            from ceph.deployment.hostspec import HostSpec
            result = self._mgr.remote('orchestrator', 'add_host', HostSpec(fqdn))
        else:
            result = self._mgr.remote('orchestrator', 'remove_host', fqdn, False, False)
        if getattr(result, 'exception', None):
            raise KeyStateError(str(result.exception))
        self._orch_at = 0.0
