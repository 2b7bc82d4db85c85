"""Shared fixtures of the test suite.

Slow tests always run: ``@pytest.mark.slow`` only labels them, so that a quick
local run can deselect them with ``-m "not slow"``. Spark tests also carry
``@pytest.mark.spark`` and are skipped (not failed) where PySpark or Java is
missing.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.path.exists(os.path.join(java_home, "bin", "java")):
        return True
    return shutil.which("java") is not None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local Spark session (one core, few shuffle partitions, no UI), shared by all tests."""
    pytest.importorskip("pyspark")
    if not _java_available():
        pytest.skip("Spark needs Java, which is not installed")
    from pyspark.sql import SparkSession

    # the Python workers (if Spark ever starts any) must be this interpreter
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[1]")
        .appName("scrutiny-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
