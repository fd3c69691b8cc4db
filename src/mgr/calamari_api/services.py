"""The components every controller may use, created once per module instance and passed explicitly."""
from typing import Any, Callable

from .auth import Auth
from .cluster import ClusterState
from .events import EventLog
from .store import KVStore


class Services:
    def __init__(self, mgr: Any, option: Callable[[str], Any]) -> None:
        self.mgr = mgr
        self.option = option
        self.store = KVStore(mgr)
        self.cluster = ClusterState(mgr)
        self.auth = Auth(self.store, option, secure_cookies=lambda: bool(option('ssl')))
        self.events = EventLog(self.store, capacity=lambda: option('event_history') or 5000)

    def start(self) -> None:
        """Called once when the module starts serving (background work may begin here)."""

    def stop(self) -> None:
        """Called when the module stops."""

    def notify(self, notify_type: str, notify_id: Any) -> None:
        """Fan a mgr notification out to the components; must stay fast (runs on the mgr's finisher)."""
        self.cluster.invalidate(notify_type)
