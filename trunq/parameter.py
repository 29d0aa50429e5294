"""Step parameter types: the import point (``from trunq.parameter import IntParameter``).

The implementation lives in ``trunq/parameters/`` split by kind: ``base`` (Parameter, errors,
Optional mixin), ``scalar`` (numbers, bools, enums, choices, paths, steps), ``temporal``
(dates, datetimes, intervals, time deltas), ``structured`` (dict/list/tuple) and ``frozen``
(the hashable containers values are normalized into).
"""

from trunq.core.parameters import *  # noqa: F403
from trunq.core.parameters import __all__  # noqa: F401
