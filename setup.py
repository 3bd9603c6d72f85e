"""Packaging glue for what pyproject.toml cannot say: ``templates/`` installs as ``flowc.templates``."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["flowc", "flowc.*"]), "flowc.templates"],
    package_dir={"flowc.templates": "templates"},
)
