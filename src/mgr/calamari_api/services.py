"""The components every controller may use, created once per module instance and passed explicitly."""
from typing import Any, Callable

from .auth import Auth
from .cluster import ClusterState
from .events import EventLog
from .requests import RequestEngine
from .store import KVStore


class Services:
    def __init__(self, mgr: Any, option: Callable[[str], Any]) -> None:
        self.mgr = mgr
        self.option = option
        self.store = KVStore(mgr)
        self.cluster = ClusterState(mgr)
        self.auth = Auth(self.store, option, secure_cookies=lambda: bool(option('ssl')))
        self.events = EventLog(self.store, capacity=lambda: option('event_history') or 5000)
        self.requests = RequestEngine(mgr, self.store, self.cluster,
                                      history=lambda: option('request_history') or 1000,
                                      timeout=lambda: option('request_timeout') or 300,
                                      events=lambda: getattr(self, 'events', None))

    def start(self) -> None:
        """Called once when the module starts serving (background work may begin here)."""
        self.requests.start()

    def stop(self) -> None:
        """Called when the module stops."""
        self.requests.stop()

    def notify(self, notify_type: str, notify_id: Any) -> None:
        """Fan a mgr notification out to the components; must stay fast (runs on the mgr's finisher)."""
        self.cluster.invalidate(notify_type)
        if notify_type == 'command':
            self.requests.on_command(notify_id)
        else:
            self.requests.on_map(notify_type)
