"""The components every controller may use, created once per module instance and passed explicitly."""
from typing import TYPE_CHECKING, Any, Callable

from .audit import Audit, mgr_cluster_log
from .auth.sessions import Auth
from .auth.tokens import Tokens
from .cluster import ClusterState
from .events import EventGenerator, EventLog
from .graphite.sampler import HistorySampler
from .hosts import Hosts
from .members import Members
from .mon_queries import MonQueries
from .operations.resume import resumers
from .requests.engine import RequestEngine
from .restful.service import Restful
from .store import KVStore

if TYPE_CHECKING:
    from mgr_module import MgrModule


class Services:
    def __init__(self, mgr: 'MgrModule', option: Callable[[str], Any]) -> None:
        self.mgr = mgr
        self.option = option
        self.store = KVStore(mgr)
        self.audit = Audit(mgr_cluster_log(mgr))
        self.cluster = ClusterState(mgr)
        self.mon_queries = MonQueries(mgr)
        self.auth = Auth(self.store, option, secure_cookies=lambda: bool(option('ssl')))
        self.tokens = Tokens(self.store, self.auth.throttle)
        self.events = EventLog(self.store, capacity=lambda: option('event_history') or 5000,
                               on_change=lambda: self.cluster.touch('events'))
        self.hosts = Hosts(mgr, self.cluster, self.store, option)
        self.event_generator = EventGenerator(self.events, self.cluster, self.hosts, self.store)
        self.requests = RequestEngine(mgr, self.store, self.cluster,
                                      history=lambda: option('request_history') or 1000,
                                      timeout=lambda: option('request_timeout') or 300,
                                      events=self.events, resumers=resumers(self.store, self.cluster),
                                      fault=self._fault, audit=self.audit,
                                      max_in_flight=lambda: option('max_requests_in_flight') or 0)
        self.history = HistorySampler(self.cluster, self.store, self.hosts.local_fqdn, option)
        self.restful = Restful(self)
        self.members = Members(self.store, self.events)

    def _fault(self, point: str) -> None:
        """Test only: the fault-injection test's kill points (module option ``fault_kill_at``, off by default)."""
        setting = self.option('fault_kill_at')
        if setting:
            from .fault_hook import maybe_kill
            maybe_kill(str(setting), self.mgr.get_mgr_id(), point)

    def start(self) -> None:
        """Called once when the module starts serving (background work may begin here)."""
        self.mon_queries.start()
        self.event_generator.start()
        self.requests.start()
        self.history.start()
        self.members.start()

    def stop(self) -> None:
        """Called when the module stops."""
        self.members.stop()
        self.history.stop()
        self.event_generator.stop()
        self.requests.stop()
        self.mon_queries.stop()
        self.tokens.flush()

    def notify(self, notify_type: str, notify_id: Any) -> None:
        """Fan a mgr notification out to the components; must stay fast (runs on the mgr's finisher)."""
        self.cluster.invalidate(notify_type)
        self.event_generator.notify(notify_type, notify_id)
        if notify_type == 'command':
            self.requests.on_command(notify_id)
        else:
            self.requests.on_map(notify_type)
