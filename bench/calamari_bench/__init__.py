"""calamari_bench: a measuring device for bench/bench.py, never part of the product.  A ceph-mgr module of its own,
linked into a test cluster's module path only by ``tools/dev-cluster up --bench-module`` and doing nothing until it
is enabled with a port set (``ceph mgr module enable calamari_bench``, ``mgr/calamari_bench/port``)."""
try:
    import ceph_module  # noqa: F401  (exists only inside ceph-mgr)
except ImportError:
    pass
else:
    from .module import Module  # noqa: F401
