"""Property tests: ``parse(serialize(normalize(v))) == normalize(v)`` for every value type.

Also checks that normalized values are hashable and that normalize is idempotent, because step
identity is built from normalized values.
"""

from __future__ import annotations

import datetime as dt
import enum
import operator
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from trunq import parameter as p


class Fruit(enum.Enum):
    APPLE = "a"
    PEAR = "p"
    PLUM = "l"


def assert_round_trip(param: p.Parameter, value: object) -> None:
    normalized = param.normalize(value)
    hash(normalized)
    assert param.normalize(normalized) == normalized
    text = param.serialize(normalized)
    assert isinstance(text, str)
    assert param.parse(text) == normalized


json_scalars = (
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
naive_datetimes = st.datetimes(
    min_value=dt.datetime(1, 1, 1, 0, 0), max_value=dt.datetime(9999, 12, 31, 0, 0)
)


@given(st.integers())
def test_int(value):
    assert_round_trip(p.IntParameter(), value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float(value):
    assert_round_trip(p.FloatParameter(), value)


@given(st.booleans())
def test_bool(value):
    assert_round_trip(p.BoolParameter(), value)


@given(st.text())
def test_str(value):
    assert_round_trip(p.StrParameter(), value)
    assert_round_trip(p.Parameter(), value)


@given(st.dates(), st.integers(min_value=1, max_value=30))
def test_date(value, interval):
    param = p.DateParameter(interval=interval)
    if interval > 1 and value < dt.date(1, 2, 1):
        return  # clamping below date.min is impossible; not a meaningful input
    assert_round_trip(param, value)
    assert (param.normalize(value) - param.start).days % interval == 0


@given(naive_datetimes, st.integers(min_value=1, max_value=12))
def test_date_hour(value, interval):
    assert_round_trip(p.DateHourParameter(interval=interval), value)


@given(naive_datetimes, st.sampled_from([1, 5, 15, 30]))
def test_date_minute(value, interval):
    assert_round_trip(p.DateMinuteParameter(interval=interval), value)


@given(naive_datetimes)
def test_date_second(value):
    assert_round_trip(p.DateSecondParameter(), value)


@given(st.dates(min_value=dt.date(2, 1, 1)), st.integers(min_value=1, max_value=12))
def test_month(value, interval):
    assert_round_trip(p.MonthParameter(interval=interval), value)


@given(st.dates(min_value=dt.date(100, 1, 1)), st.integers(min_value=1, max_value=50))
def test_year(value, interval):
    assert_round_trip(p.YearParameter(interval=interval), value)


@given(st.timedeltas(min_value=dt.timedelta(days=-(10**8)), max_value=dt.timedelta(days=10**8)))
def test_time_delta(value):
    assert_round_trip(p.TimeDeltaParameter(), value)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_dict(value):
    assert_round_trip(p.DictParameter(), value)


@given(st.lists(json_values, max_size=6))
def test_list(value):
    assert_round_trip(p.ListParameter(), value)


@given(st.lists(st.tuples(st.integers(), st.text(max_size=4)), max_size=5))
def test_tuple(value):
    assert_round_trip(p.TupleParameter(), value)


@given(st.sampled_from(Fruit))
def test_enum(value):
    assert_round_trip(p.EnumParameter(enum=Fruit), value)


@given(st.lists(st.sampled_from(Fruit), max_size=5))
def test_enum_list(value):
    assert_round_trip(p.EnumListParameter(enum=Fruit), value)


@given(st.data())
def test_choice(data):
    choices = data.draw(
        st.lists(st.text(alphabet="abcxyz-_ ", min_size=1, max_size=6), min_size=1, unique=True)
    )
    value = data.draw(st.sampled_from(choices))
    assert_round_trip(p.ChoiceParameter(choices=choices), value)
    int_choices = data.draw(st.lists(st.integers(), min_size=1, unique=True))
    assert_round_trip(
        p.ChoiceParameter(choices=int_choices, var_type=int), data.draw(st.sampled_from(int_choices))
    )


@given(st.integers(min_value=-1000, max_value=1000), st.sampled_from([operator.le, operator.lt]))
def test_numerical_int(value, left_op):
    param = p.NumericalParameter(
        var_type=int, min_value=-1000, max_value=1000, left_op=left_op, right_op=operator.le
    )
    if value == -1000 and left_op is operator.lt:
        return  # outside the open lower bound by construction
    assert_round_trip(param, value)


@given(st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_numerical_float(value):
    assert_round_trip(p.NumericalParameter(var_type=float, min_value=0.0, max_value=1.0), value)


path_parts = st.text(
    alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1
)


@given(st.lists(path_parts, min_size=1, max_size=4), st.booleans())
def test_path(parts, rooted):
    value = Path("/" if rooted else ".", *parts)
    assert_round_trip(p.PathParameter(), value)
    assert_round_trip(p.OptionalPathParameter(), value)


@given(st.one_of(st.none(), st.integers()))
def test_optional_int(value):
    assert_round_trip(p.OptionalIntParameter(), value)
