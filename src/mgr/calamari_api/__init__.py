"""calamari_api: the Calamari REST API v2, served from inside ceph-mgr."""
try:
    import ceph_module  # noqa: F401  (exists only inside ceph-mgr, or as the unit tests' fake)
except ImportError:         # outside ceph-mgr, e.g. `python3 -m calamari_api.openapi` for packaging: no Module
    pass
else:
    try:
        from .module import Module, StandbyModule  # noqa: F401
    except Exception:       # never "Class not found": the reason reaches `ceph mgr module ls`/`enable` and the log
        import traceback
        from .load_failure import failed_module
        Module = failed_module(traceback.format_exc())
