"""Stands in for a tutor of another link version on the far side of ssh: it greets
with the version in OTHER_LINK_VERSION and then waits to be hung up on."""

import os
import sys
import time

sys.stdout.write(f"tutor-link {os.environ.get('OTHER_LINK_VERSION', '99')} 9.9.9 host\n")
sys.stdout.flush()
time.sleep(30)
