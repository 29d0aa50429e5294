"""The daily reports of spec 03 ("Triggering recurring steps")."""

import datetime
import os

import trunq


def out_dir() -> str:
    return os.environ.get("RECURRING_OUT", "out")


class DailyReport(trunq.Step):
    date = trunq.DateParameter()

    def output(self):
        return trunq.LocalTarget(os.path.join(out_dir(), self.step_family, f"{self.date:%Y-%m-%d}.txt"))

    def run(self):
        with self.output().open("w") as handle:
            handle.write(f"{self.step_family} for {self.date}\n")


class SomeReport(DailyReport):
    pass


class SomeOtherReport(DailyReport):
    pass


class CropReport(DailyReport):
    pass


class TPSReport(DailyReport):
    pass


class FooBarBazReport(DailyReport):
    pass


class AllReports(trunq.WrapperStep):
    date = trunq.DateParameter(default=datetime.date.today())

    def requires(self):
        yield SomeReport(self.date)
        yield SomeOtherReport(self.date)
        yield CropReport(self.date)
        yield TPSReport(self.date)
        yield FooBarBazReport(self.date)


class ReportV2(DailyReport):
    pass


class AllReportsV2(trunq.WrapperStep):
    date = trunq.DateParameter(default=datetime.date.today())

    def requires(self):
        yield ReportV2(self.date)
