"""The ``gazekit`` command-line app (installed as the subpackage ``gazekit.cli``)."""
