"""calamari_api: the Calamari REST API v2, served from inside ceph-mgr."""
from .module import Module, StandbyModule  # noqa: F401
