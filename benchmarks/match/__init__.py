"""Matching benchmark: real user queries from CLINC150 and HWU64 against generated knowledge.

Run ``python -m benchmarks.match [DATA_DIR]`` from the project root (``--help`` for options).
DATA_DIR defaults to ``../shared/data`` beside the project root; see its README for the datasets.

For every dataset, K and seed, a knowledge base is generated in our own YAML format (one entry
per intent, K phrasings drawn from ``train`` with a fixed seed per intent), written to a
temporary folder, read back with ``knowledge.loader.load_knowledge`` and matched with
``knowledge.matcher.Matcher`` -- the code path the bot uses. Baselines (rapidfuzz ``WRatio`` and
``token_sort_ratio``, max over an entry's phrasings) see the same loaded knowledge. Nothing is
fitted on ``test``: the out-of-scope threshold comes from ``oos_val`` only.

Modules: ``data`` (datasets, drawn phrasings, knowledge YAML), ``metrics`` (pure figures,
unit-tested in ``tests/unit/test_benchmark_metrics.py``), ``rankers`` (the methods),
``evaluate`` (one method on one knowledge base), ``scale`` (latency, memory and cold start in
fresh processes), ``report`` (tables, README blocks), ``cli`` (options and the run).
"""
