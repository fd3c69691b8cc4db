"""The module must run beside the dashboard: nothing PyO3-based (cryptography, pyOpenSSL, PyJWT) may be
imported, directly or through a dependency (Debian 12 allows one PyO3 module per ceph-mgr process)."""
import ast
import os
import subprocess
import sys

import calamari_api

FORBIDDEN = ('cryptography', 'OpenSSL', 'jwt')
PACKAGE_DIR = os.path.dirname(calamari_api.__file__)


def imported_names(path):
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_no_forbidden_import_in_the_source():
    for root, _, files in os.walk(PACKAGE_DIR):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(root, name)
                bad = [m for m in imported_names(path) if m.split('.')[0] in FORBIDDEN]
                assert not bad, f'{path} imports {bad}'


def test_importing_every_module_loads_no_pyo3_package():
    """In a fresh interpreter (the fake ceph_module, the real mgr_module), import all of calamari_api."""
    code = (
        'import sys, pkgutil, importlib; from tests.support import fake_ceph; fake_ceph.install();'
        'import calamari_api;'
        '[importlib.import_module(m.name) for m in pkgutil.walk_packages(calamari_api.__path__, "calamari_api.")];'
        'bad = [m for m in sys.modules if m.split(".")[0] in %r]; print(bad); sys.exit(1 if bad else 0)'
    ) % (FORBIDDEN,)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(PACKAGE_DIR)))
    proc = subprocess.run([sys.executable, '-c', code], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
