"""A small training package, as Vertex's pythonPackageSpec expects: `python -m trainer.task`."""
from setuptools import setup

setup(name="trainer", version="0.1", packages=["trainer"])
