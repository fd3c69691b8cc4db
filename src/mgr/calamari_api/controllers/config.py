"""Calamari resource: config.

Calamari served a mon's ``config show``.  Here the values are the active mgr's running configuration
(``MgrModule.get('config')``: defaults + ceph.conf + the mon config DB sections for the mgr) merged with the
mon config DB entries aimed at the mons (``config dump``, sections ``mon``/``mon.<id>``), so the options the
mons act on (``osd_pool_default_size``, ``osd_pool_default_min_size``, ``mon_max_pool_pg_num``, ...) show the
value the mons use.  The merge rules are in ``views/config.py``; the ``config dump`` round trip is cached
for at most 10 seconds (``derived.effective_config``).  Secret-valued options are redacted (``views.config``).
"""
from typing import Any, Dict

from . import BaseController
from ..derived import effective_config
from ..web.http import ApiRequest, not_found, unavailable
from ..views.config import config_objects, shown_value


class ConfigController(BaseController):
    def _config(self) -> Dict[str, str]:
        config = effective_config(self.services)
        if not config:
            raise unavailable('Cluster configuration unavailable')
        return config

    def list(self, request: ApiRequest, fsid: str) -> Any:
        return self.cluster.derived('config_list', ('config',), lambda: config_objects(self._config()))

    def get(self, request: ApiRequest, fsid: str, key: str) -> Any:
        config = self._config()
        if key not in config:
            raise not_found()
        return {'key': key, 'value': shown_value(key, config[key])}


CONTROLLER = ConfigController
