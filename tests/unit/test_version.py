"""The version has one source, version.py: /api/v2/info, the OpenAPI document, `ceph calamari-api version` and the
Debian package (debian/changelog, whose version debian/rules also checks at build time) all say the same."""
import os
import re

from calamari_api.version import VERSION

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_debian_changelog_names_the_version_of_version_py():
    with open(os.path.join(REPO, 'debian', 'changelog')) as f:
        first = f.readline()
    match = re.match(r'^ceph-mgr-calamari-api \(([^)]+)\) ', first)
    assert match, first
    assert match.group(1) == VERSION, 'bump debian/changelog with version.py (dch -v <version>)'


def test_info_and_the_cli_show_it(anon, module):
    assert anon.get('/api/v2/info').json()['version'] == VERSION
    assert anon.get('/api/v2/openapi.json').json()['info']['version'] == VERSION
    result = module._handle_command(None, {'prefix': 'calamari-api version'})
    assert (result.retval, result.stdout) == (0, VERSION)
