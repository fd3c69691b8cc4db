"""What the unit tier, the integration tier, the package tier and bench/ share (import from here, never from
another tier): ``cluster`` (a real cluster through tools/dev-cluster), ``http_client`` (real sockets) and
``wsgi_client`` (in-process), ``fake_ceph`` (the fake ``ceph_module`` over tests/fixtures), ``access_checks``
(Calamari's auth answers and the sweep over the route table), ``request_polling`` (a write's request polled to
``complete``), ``malformed`` (malformed HTTP over raw sockets) and ``ui_tree`` (a stand-in calamari-clients tree).
A helper one tier alone uses stays in that tier (tests/unit/drained_requests.py, tests/integration/reads.py)."""
