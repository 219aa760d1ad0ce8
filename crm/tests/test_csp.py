"""The content security policy and the other security headers, on every environment's pages, and templates that
keep within the policy: no inline script, event handler or style attribute (the browser would refuse them)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + [
    path for path in Path(settings.BASE_DIR).glob("*/templates") if path.is_dir()
]
INLINE = {
    "an inline <script> (no src)": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "an event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "a <style> element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "an htmx attribute that needs eval": re.compile(r"\shx-on[:-]|hx-(vals|headers)=['\"]\s*(js|javascript):"),
}
# Template comments say what the page may not hold; they never reach the browser.
COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.DOTALL)


def _directives(header: str) -> dict[str, set[str]]:
    return {name: set(values) for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_a_page_carries_the_policy_and_it_allows_nothing_inline(sales_client):
    response = sales_client.get(reverse("home"))
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert policy["img-src"] == {"'self'", "data:"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["form-action"] == {"'self'"}
    assert policy["object-src"] == {"'none'"}
    assert policy["base-uri"] == {"'self'"}
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_the_login_page_carries_the_policy_and_the_other_headers():
    response = Client().get(reverse("login"))
    assert "Content-Security-Policy" in response
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_htmx_is_told_to_neither_eval_nor_inject_its_own_styles(sales_client):
    html = sales_client.get(reverse("home")).content.decode()
    assert """<meta name="htmx-config" content='{"allowEval": false, "includeIndicatorStyles": false}'>""" in html


def test_no_template_holds_inline_script_handler_or_style():
    found = []
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*.html"):
            text = COMMENT.sub(lambda m: "\n" * m.group().count("\n"), path.read_text())
            for what, pattern in INLINE.items():
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(settings.BASE_DIR)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_the_checker_would_see_each_kind_of_inline_code():
    samples = [
        "<script>alert(1)</script>",
        '<button onclick="x()">',
        '<div class="a" style="width: 5%">',
        "<style>a{}</style>",
        '<a href="javascript:void(0)">',
        '<div hx-on:click="x()">',
    ]
    for sample, pattern in zip(samples, INLINE.values(), strict=True):
        assert pattern.search(sample), sample
    assert not INLINE["an inline <script> (no src)"].search('<script src="/static/js/crm.js"></script>')
