"""Metadata lives in setup.cfg; this file only lists the packages of the three mapped folders."""

from setuptools import find_packages, setup

ROOTS = {"hpf": "src/hpf", "hpf_adapters": "adapters", "hpf_migrations": "migrations"}

setup(
    packages=[
        name
        for root, folder in ROOTS.items()
        for name in [root, *(f"{root}.{sub}" for sub in find_packages(folder))]
    ]
)
