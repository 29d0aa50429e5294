"""Steps for the range, notification and schedule tests."""

import datetime
import json
import os
import time
from pathlib import Path

import trunq


def out_dir() -> str:
    return os.environ.get("RECURRING_OUT", "out")


class MyStep(trunq.Step):
    """Spec 03 "Propagating parameters with Range"."""

    date = trunq.DateParameter()
    my_string_param = trunq.Parameter(default="")
    my_int_param = trunq.IntParameter(default=0)
    my_param = trunq.IntParameter(default=0)

    def output(self):
        return trunq.LocalTarget(os.path.join(out_dir(), "MyStep", f"{self.date:%Y-%m-%d}.json"))

    def run(self):
        values = {"string": self.my_string_param, "int": self.my_int_param, "param": self.my_param}
        with self.output().open("w") as handle:
            json.dump(values, handle)


class NestedDaily(trunq.Step):
    """Outputs in one directory per month: the listing inference must list each month once."""

    date = trunq.DateParameter()

    def output(self):
        return trunq.LocalTarget(os.path.join(out_dir(), "nested", f"{self.date:%Y}", f"{self.date:%m}",
                                              f"{self.date:%d}.csv"))

    def run(self):
        with self.output().open("w") as handle:
            handle.write("x\n")


class BulkDaily(trunq.Step):
    """Completeness comes from one call listing the done days (a database query, say)."""

    date = trunq.DateParameter()
    region = trunq.Parameter(default="eu")

    @staticmethod
    def done_days():
        done_file = os.path.join(out_dir(), "bulk_done.txt")
        return set(Path(done_file).read_text().split()) if os.path.exists(done_file) else set()

    @classmethod
    def bulk_complete(cls, dates):
        dates = list(dates)
        with open(os.path.join(out_dir(), "bulk_calls.txt"), "a") as handle:
            handle.write(f"{len(dates)}\n")
        done = BulkDaily.done_days()  # cls may be a partial carrying of_params
        return [d for d in dates if d.isoformat() in done]

    def complete(self):
        return self.date.isoformat() in self.done_days()

    def run(self):
        with open(os.path.join(out_dir(), "bulk_done.txt"), "a") as handle:
            handle.write(f"{self.date.isoformat()}\n")


class HourlyStep(trunq.Step):
    hour = trunq.DateHourParameter()

    def output(self):
        return trunq.LocalTarget(os.path.join(out_dir(), "hourly", f"{self.hour:%Y-%m-%dT%H}.txt"))

    def run(self):
        with self.output().open("w") as handle:
            handle.write("h\n")


class MinuteStep(trunq.Step):
    minute = trunq.DateMinuteParameter()

    def output(self):
        return trunq.LocalTarget(os.path.join(out_dir(), "minutes", f"{self.minute:%Y-%m-%dT%H%M}.txt"))

    def run(self):
        with self.output().open("w") as handle:
            handle.write("m\n")


class MonthlyStep(trunq.Step):
    month = trunq.MonthParameter()

    def output(self):
        return trunq.LocalTarget(os.path.join(out_dir(), "monthly", f"{self.month:%Y-%m}.txt"))

    def run(self):
        with self.output().open("w") as handle:
            handle.write("m\n")


class FailingDaily(trunq.Step):
    """Always fails; its owner is told by e-mail."""

    date = trunq.DateParameter()
    owner_email = "owner@example.com"

    def output(self):
        return trunq.LocalTarget(os.path.join(out_dir(), "never", f"{self.date}.txt"))

    def run(self):
        raise RuntimeError(f"no input data for {self.date}")


class Stamp(trunq.Step):
    """Appends one line per run: the scheduled tick, the pid and start/end times."""

    name = trunq.Parameter(default="stamp")
    sleep = trunq.FloatParameter(default=0.0)

    def complete(self):
        return False

    def run(self):
        started = time.time()
        time.sleep(self.sleep)
        line = f"{os.environ.get('TRUNQ_SCHEDULED_TIME', '-')} {os.getpid()} {started} {time.time()}\n"
        with open(os.path.join(out_dir(), f"{self.name}.log"), "a") as handle:
            handle.write(line)


def utc_today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()
