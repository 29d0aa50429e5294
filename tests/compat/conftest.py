"""The compat tests run luigi itself beside trunq to compare behaviour."""

import warnings

with warnings.catch_warnings():
    # luigi warns at import about a default of its range tools; irrelevant here.
    warnings.simplefilter("ignore", DeprecationWarning)
    import luigi  # noqa: F401
