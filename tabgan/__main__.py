"""``python -m tabgan`` (and ``torchrun ... -m tabgan``): the ``tabgan`` command."""

import sys

from .cli import main

sys.exit(main())
