"""The benchmark harness, apart from the core: problems and runs (``problems``), each
framework's runner (``optuna_runs``, ``nni_runs``, ``syne_tune_runs``), summaries, and the
``pnag bench``, ``pnag study`` and ``pnag demo`` commands. It imports the adapters; nothing
in the core or the adapters imports it."""
