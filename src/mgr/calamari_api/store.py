"""Persistence in the mgr KV store (``config-key mgr/calamari_api/...``, kept by the mons).

Every write is a mon commit and a key holds at most 64 KiB, so callers store many small keys (one per
user, session, request, event chunk) rather than one growing blob."""
import json
import logging
from typing import TYPE_CHECKING, Any, Dict, Optional

if TYPE_CHECKING:
    from mgr_module import MgrModule

log = logging.getLogger(__name__)


class KVStore:
    def __init__(self, mgr: 'MgrModule') -> None:
        self._mgr = mgr

    def get_json(self, key: str, default: Any = None) -> Any:
        raw = self._mgr.get_store(key)
        if raw is None:
            return default
        try:
            return json.loads(raw)
        except ValueError:
            log.warning('ignoring unreadable store key %s', key)
            return default

    def set_json(self, key: str, value: Any) -> None:
        self._mgr.set_store(key, json.dumps(value, separators=(',', ':')))

    def delete(self, key: str) -> None:
        self._mgr.set_store(key, None)

    def prefix_json(self, prefix: str) -> Dict[str, Any]:
        """All keys under ``prefix`` (the prefix stripped) with their decoded values."""
        result: Dict[str, Any] = {}
        for key, raw in (self._mgr.get_store_prefix(prefix) or {}).items():
            try:
                result[key[len(prefix):]] = json.loads(raw)
            except (ValueError, TypeError):
                log.warning('ignoring unreadable store key %s', key)
        return result

    def get(self, key: str) -> Optional[str]:
        return self._mgr.get_store(key)

    def set(self, key: str, value: Optional[str]) -> None:
        self._mgr.set_store(key, value)
