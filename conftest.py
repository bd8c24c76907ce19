"""Root wiring: the compliance report and the suite's cluster fixtures.

``pytest suites/`` checks the cluster that ``--inventory`` describes (the
embedded lab's by default); ``pytest tests/`` runs the project's own tests.
"""

pytest_plugins = ["fixtures.report.plugin", "fixtures.plugin"]
