"""Package discovery: ``cli/`` and ``data_schemas/`` ship inside the ``gazekit`` package.

The click app lives in the top-level ``cli/`` folder and the schemas in
``data_schemas/``; they install as ``gazekit.cli`` and ``gazekit.data_schemas`` so
no bare top-level ``cli`` module is ever installed. Everything else is in
``pyproject.toml``.
"""

from setuptools import find_packages, setup

packages = find_packages(include=["gazekit", "gazekit.*"])
packages += ["gazekit.cli", "gazekit.data_schemas"]

setup(
    packages=packages,
    package_dir={
        "gazekit": "gazekit",
        "gazekit.cli": "cli",
        "gazekit.data_schemas": "data_schemas",
    },
)
