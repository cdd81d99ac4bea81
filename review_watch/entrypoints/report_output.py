"""`review-watch report`: the leads' report in the terminal, as text, CSV (one figure per row) or JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import IO, Any

from review_watch.services.export import spreadsheet_safe
from review_watch.services.report import CSV_FIELDS, BrandReport, report_dict, report_rows


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _stars(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _trend(value: float | None) -> str:
    return "" if value is None else f" ({value:+.2f} against the window before)"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


def text_report(report: BrandReport) -> str:
    index = report.satisfaction
    lines = [
        f"{report.brand}: {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC",
        f"  {report.mentions} mentions, {report.negative} negative ({_share(report.negative_share)})",
        f"  satisfaction {_stars(index.average)} of 5 from {index.count} ratings in "
        f"{report.satisfaction_window_days:g} days{_trend(index.trend)}",
    ]
    lines += [f"    {s.source}: {_stars(s.index.average)} ({s.index.count} ratings){_trend(s.index.trend)}"
              for s in report.by_source]
    if report.people:
        lines.append("  per person (answered in time, median first reply in business hours, overdue now):")
        lines += [f"    {p.name}: {_share(p.in_time_share)} in time ({p.answered_in_time} of {p.answered}), "
                  f"median first reply {_hours(p.median_first_reply_hours)}, overdue now {p.overdue_now}"
                  for p in report.people]
    if report.fastest:
        lines.append(f"  fastest: {', '.join(p.name for p in report.fastest)}")
    lines.append(f"  overdue: {report.overdue_total}")
    for case in report.overdue:
        reasons = ", ".join(r.value.replace("_", " ") for r in case.priority.reasons)
        lines.append(f"    #{case.case_id} {case.assignee or 'unassigned'}, due {case.deadline_at:%Y-%m-%d %H:%M} UTC"
                     f"{f' [{reasons}]' if reasons else ''}: {case.snippet}")
    if report.open_incidents:
        lines.append(f"  open incidents: {'; '.join(report.open_incidents)}")
    if report.themes:
        lines.append(f"  top complaint themes: {', '.join(f'{word} ({n})' for word, n in report.themes)}")
    if report.broken_sources:
        lines.append(f"  sources that look broken: {', '.join(report.broken_sources)}")
    return "\n".join(lines)


def write_reports(reports: Sequence[BrandReport], output_format: str, sink: IO[str]) -> None:
    if output_format == "json":
        data: list[dict[str, Any]] = [report_dict(r) for r in reports]
        sink.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif output_format == "csv":
        writer = csv.DictWriter(sink, fieldnames=CSV_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for report in reports:
            for row in report_rows(report):
                writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
    else:
        sink.write("\n\n".join(text_report(r) for r in reports) + "\n")
