"""Target formats (text, binary, gzip, bzip2, chains with ``>>``): see ``trunq.core.format``.

``LocalTarget(path, format=trunq.format.Gzip)``; ``trunq.format.UTF8 >> trunq.format.Gzip``
writes text as gzipped UTF-8.
"""

from trunq.core.format import *  # noqa: F403
from trunq.core.format import __all__  # noqa: F401
