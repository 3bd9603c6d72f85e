"""Packaging glue for what pyproject.toml cannot say: ``templates/`` installs as ``flowc.templates``."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["flowc", "flowc.*"]),
        "flowc.templates",
        "flowc.backends.argo.schema",  # data only: Argo's vendored JSON schema and its licence
        "flowc.cards.assets",  # data only: Vega, Vega-Lite, vega-embed (gzipped) and their licences
        "flowc.ui.static",  # data only: the UI's script and style sheet
    ],
    package_dir={"flowc.templates": "templates"},
)
