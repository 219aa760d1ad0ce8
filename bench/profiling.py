"""Where a page's server time goes: SQL, template rendering, crispy forms, and the rest (Python).

`bench/run.py --profile` adds this to the report for the scenarios marked `profile` in bench/measure.py (of
those `--only` keeps). Two passes per page, each on its own requests:

- a split by wall clock: the time inside SQL (a database execute wrapper), inside crispy forms (the
  `{% crispy %}` tag and the `|crispy` filter, with the templates they render), inside the rest of template
  rendering (each template's own time, its includes excluded), and the rest: middleware, the view, forms,
  turning rows into objects. Each part excludes the parts nested in it (SQL run by a template counts as
  SQL), so the parts add up to the request. A few wrappers per template, so the overhead is small.
- cProfile's own time per package (django.template, crispy_forms, psycopg, customers, ...), for what the
  split calls "the rest". cProfile slows small, often-called functions most, so its shares are a guide.
"""

import cProfile
import functools
import pstats
import sysconfig
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.template import base as template_base
from django.test import Client

from bench.db import ROOT
from bench.measure import Scenario, _get

SQL, CRISPY, TEMPLATE, PYTHON = "SQL", "crispy forms", "templates", "Python"
PARTS = (SQL, TEMPLATE, CRISPY, PYTHON)
REST = "middleware, view, forms, ORM objects"


@dataclass
class Split:
    """Seconds per (part, label), exclusive: a part nested in another is taken out of the outer one."""

    totals: Counter = field(default_factory=Counter)
    queries: int = 0
    requests: int = 0
    _stack: list[list] = field(default_factory=list)  # [part, label, since]

    @contextmanager
    def request(self):
        self._stack = [[PYTHON, REST, time.perf_counter()]]
        try:
            yield
        finally:
            self._leave()
            self.requests += 1

    @contextmanager
    def part(self, part: str, label: str):
        if not self._stack:  # not inside a timed request
            yield
            return
        if part in (TEMPLATE, CRISPY) and self._stack[-1][0] == CRISPY:
            part, label = CRISPY, self._stack[-1][1]  # a crispy form's own templates and fields are its time
        now = time.perf_counter()
        outer = self._stack[-1]
        self.totals[outer[0], outer[1]] += now - outer[2]
        self._stack.append([part, label, now])
        try:
            yield
        finally:
            self._leave()
            if self._stack:
                self._stack[-1][2] = time.perf_counter()

    def _leave(self) -> None:
        part, label, since = self._stack.pop()
        self.totals[part, label] += time.perf_counter() - since

    def ms(self, part: str) -> float:
        return sum(s for (p, _), s in self.totals.items() if p == part) * 1000 / self.requests

    def top(self, part: str, n: int) -> list[tuple[str, float]]:
        labels = Counter({label: s for (p, label), s in self.totals.items() if p == part})
        return [(label, s * 1000 / self.requests) for label, s in labels.most_common(n)]


_split = Split()


def install() -> None:
    """Wrap template rendering and crispy forms once per process; SQL is wrapped per pass (execute_wrapper).

    Call before the first request: a compiled template keeps the `|crispy` filter function it was parsed with.
    """
    if getattr(template_base.Template.render, "bench_wrapped", False):
        return
    from crispy_forms.templatetags import crispy_forms_filters, crispy_forms_tags

    _wrap(template_base.Template, "render", TEMPLATE, lambda template, *a, **k: template.origin.template_name)
    _wrap(crispy_forms_tags.CrispyFormNode, "render", CRISPY, _crispy_node_label)
    filters = crispy_forms_filters.register.filters  # the library `{% load crispy_forms_tags %}` loads, too
    for name in ("crispy", "as_crispy_field", "as_crispy_errors"):
        filters[name] = _wrapped(filters[name], CRISPY, lambda form, *a: _name(getattr(form, "form", form)))


def _wrap(cls, attribute: str, part: str, label) -> None:
    setattr(cls, attribute, _wrapped(getattr(cls, attribute), part, label))


def _wrapped(function, part: str, label):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _split.part(part, str(label(*args, **kwargs) or "<string>")):
            return function(*args, **kwargs)

    wrapper.bench_wrapped = True
    return wrapper


def _crispy_node_label(node, context) -> str:
    try:
        return _name(template_base.Variable(node.form).resolve(context))
    except template_base.VariableDoesNotExist:
        return node.form


def _name(form) -> str:
    return f"{type(form).__module__}.{type(form).__name__}"


def _count_sql(execute, sql, params, many, context):
    _split.queries += 1
    with _split.part(SQL, "SQL"):
        return execute(sql, params, many, context)


def split(client: Client, scenario: Scenario, *, runs: int) -> Split:
    global _split
    _split = Split()
    urls = _urls(scenario, runs)
    with connection.execute_wrapper(_count_sql):
        for url in urls:
            with _split.request():
                _get(client, url, scenario.status)
    return _split


def packages(client: Client, scenario: Scenario, *, runs: int) -> tuple[float, list[tuple[str, float]]]:
    """(ms per request under cProfile, [(package, own ms per request)] largest first)."""
    profiler = cProfile.Profile()
    for url in _urls(scenario, runs):
        profiler.runcall(_get, client, url, scenario.status)
    own = Counter()
    for (filename, _, function), (_, _, tottime, _, _) in pstats.Stats(profiler).stats.items():
        own[package(filename, function)] += tottime
    total = sum(own.values())
    return total * 1000 / runs, [(name, s * 1000 / runs) for name, s in own.most_common()]


_SITE = Path(sysconfig.get_paths()["purelib"])
_STDLIB = Path(sysconfig.get_paths()["stdlib"])


def package(filename: str, function: str = "") -> str:
    """A readable owner for a profiled function: django.template, crispy_forms, customers, Python (stdlib)..."""
    if filename.startswith("~") or filename.startswith("<"):
        # C functions: the database driver's (execute, fetchmany: waiting for Postgres) or Python's built-ins.
        return "psycopg2 (C)" if "psycopg" in function else "Python built-ins"
    path = Path(filename)
    for root, depth in ((_SITE, None), (ROOT, 1)):
        if path.is_relative_to(root):
            parts = path.relative_to(root).parts
            if parts[0] == "django" and len(parts) > 2:
                return ".".join(parts[:2])
            return parts[0] if depth is None or len(parts) > 1 else path.stem
    if path.is_relative_to(_STDLIB):
        return "Python (stdlib)"
    return path.name


def _urls(scenario: Scenario, runs: int) -> list[str]:
    return [scenario.urls[i % len(scenario.urls)] for i in range(runs)]


def section(client: Client, scenarios: list[Scenario], *, runs: int) -> str:
    """Markdown: for each page, the split and the packages with the most own time."""
    install()
    lines = [
        "",
        f"### Where the time goes ({runs} requests per page and pass; `bench/run.py --profile`, bench/profiling.py)",
        "",
        "| page | request ms | SQL ms (queries) | templates ms | crispy forms ms | Python ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    details = []
    for scenario in scenarios:
        for url in scenario.urls[:3]:  # warm the template cache and the database pages first
            _get(client, url, scenario.status)
        s = split(client, scenario, runs=runs)
        total = sum(s.ms(p) for p in PARTS)
        cells = {p: f"{s.ms(p):.1f} ({s.ms(p) / total:.0%})" for p in PARTS}
        lines.append(
            f"| {scenario.name} | {total:.1f} | {cells[SQL]}, {s.queries / s.requests:.0f} queries "
            f"| {cells[TEMPLATE]} | {cells[CRISPY]} | {cells[PYTHON]} |"
        )
        profiled_ms, owners = packages(client, scenario, runs=runs)
        templates = ", ".join(f"{label} {ms:.1f}" for label, ms in s.top(TEMPLATE, 6))
        forms = ", ".join(f"{label.rsplit('.', 1)[-1]} {ms:.1f}" for label, ms in s.top(CRISPY, 4)) or "none"
        top = ", ".join(f"{name} {ms:.1f} ({ms / profiled_ms:.0%})" for name, ms in owners[:8])
        details += [
            f"- **{scenario.name}**: templates with the most own time (ms per request): {templates}. "
            f"Crispy forms: {forms}. Under cProfile ({profiled_ms:.0f} ms a request), own time by package: {top}."
        ]
    return "\n".join([*lines, "", *details]) + "\n"
