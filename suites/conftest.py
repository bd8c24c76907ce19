"""Every suite test runs on the cluster made ready: provisioned when asked, its
environment read for the report, its artefacts gathered at the end (fixtures/plugin.py)."""

from __future__ import annotations

import pytest

from fixtures.resources.cluster import Cluster


@pytest.fixture(scope="session", autouse=True)
def _ready(cluster_ready: Cluster) -> Cluster:
    return cluster_ready
