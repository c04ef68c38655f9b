"""Environment for test runs, loaded by pytest (`-p tests.environment`) before Django's settings.

Settings are read from the environment and refuse to start without a secret key when DEBUG is
off, as tests run; these are the test-only values. Anything already set wins.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
