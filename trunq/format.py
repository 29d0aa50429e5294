"""Target formats (text, binary, gzip, bzip2, chains with ``>>``): see ``trunq.core.format``.

``LocalTarget(path, format=trunq.format.Gzip)``; ``trunq.format.UTF8 >> trunq.format.Gzip``
writes text as gzipped UTF-8. Custom formats can pipe through a command with
``InputPipeProcessWrapper`` / ``OutputPipeProcessWrapper``, as in luigi.
"""

from trunq.core import format as _format
from trunq.core.format import *  # noqa: F403
from trunq.core.pipes import InputPipeProcessWrapper, OutputPipeProcessWrapper

__all__ = [*_format.__all__, "InputPipeProcessWrapper", "OutputPipeProcessWrapper"]
