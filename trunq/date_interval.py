"""Public path of the date intervals, as luigi's ``luigi.date_interval``."""

from trunq.core.date_interval import Custom, Date, DateInterval, Month, Week, Year, parse_interval

__all__ = ["DateInterval", "Date", "Week", "Month", "Year", "Custom", "parse_interval"]
