"""The load test's tasks, each once, against the test server: the pages and API calls it makes answer as it
expects (bench/load/smoke.py), so a 3-minute run is not spent on a typo.

bench/ is not in pytest.ini's testpaths; run with `.venv/bin/pytest -q -p no:cacheprovider bench/tests`.
"""

import os
import subprocess
import sys

import pytest

from bench.db import ROOT
from bench.load.prepare import prepare
from customers.tests.factories import CustomerFactory, UserFactory


@pytest.fixture
def shop(transactional_db):
    seller = UserFactory(username="sales01", role="Sales")
    for name in ("王小明", "李华", "Zoe Smith"):
        CustomerFactory(name=name, owner=seller)
    CustomerFactory(name="张伟")


def test_every_task_of_the_load_test_answers_as_it_expects(shop, live_server, tmp_path):
    data = tmp_path / "data.json"
    prepare(path=data, service=1, marketing=1)

    done = subprocess.run(
        [sys.executable, "-m", "bench.load.smoke", "--host", live_server.url],
        cwd=ROOT,
        env={**os.environ, "CRM_LOAD_DATA": str(data)},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout
    for name in ("login", "customer page", "lookup by CRM number", "segment list", "API: post a purchase"):
        assert f" {name} " in done.stdout
