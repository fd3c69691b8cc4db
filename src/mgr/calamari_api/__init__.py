"""calamari_api: the Calamari REST API v2, served from inside ceph-mgr."""
try:
    from .module import Module, StandbyModule  # noqa: F401
except ImportError as e:       # outside ceph-mgr, e.g. `python3 -m calamari_api.openapi` for packaging
    if e.name not in ('mgr_module', 'ceph_module'):
        raise
