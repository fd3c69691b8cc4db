"""A small stand-in for a calamari-clients tree (the project ships none of its files), for the UI tests."""
from pathlib import Path

APPS = ('login', 'manage', 'dashboard', 'admin')


def make_tree(root: Path) -> Path:
    """Each app's index.html, the dashboard's config.json and locale file, a script, and a file outside the apps."""
    for app in APPS:
        (root / app).mkdir(parents=True)
        (root / app / 'index.html').write_text(f'<html>{app}</html>')
    scripts = root / 'dashboard' / 'scripts'
    (scripts / 'locales' / 'en').mkdir(parents=True)
    (scripts / 'config.json').write_text('{"offline": false, "graphite-host": "/graphite"}')
    (scripts / 'locales' / 'en' / 'strings.l20n').write_text('<hello "Hello">')
    (root / 'manage' / 'app.js').write_text('var x = 1;')
    (root / 'secret.txt').write_text('outside the apps')
    return root
