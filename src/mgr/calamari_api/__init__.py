"""calamari_api: the Calamari REST API v2, served from inside ceph-mgr."""
try:
    import ceph_module  # noqa: F401  (exists only inside ceph-mgr, or as the unit tests' fake)
except ImportError:         # outside ceph-mgr, e.g. `python3 -m calamari_api.openapi` for packaging: no Module
    pass
else:
    # Inside ceph-mgr any failure propagates: the mgr logs its traceback, and `ceph mgr module ls`/`enable` give
    # its message as the reason the module cannot run.
    from .module import Module, StandbyModule  # noqa: F401
