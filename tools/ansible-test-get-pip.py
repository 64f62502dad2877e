"""Stand-in for get-pip.py in ansible-test's sanity virtual environments.

ansible-test creates each sanity venv without pip and downloads get-pip.py from a host that only
the package registries' clients may reach here; it documents saving the script into its cache by
hand. This stand-in installs pip from the wheel that Debian's python3-venv ships (ensurepip,
offline), then lets that pip install what get-pip was asked for, from PyPI.
"""

import ensurepip
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# get-pip's own switches; the rest are pip install arguments.
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])
