"""ShopAgent: a LangGraph state machine that answers shoppers from real tool results.

This package is the bottom layer (errors, settings). The design's top-level folders are
installed beneath it: ``agent/`` as :mod:`shopagent.agent`, ``tools/`` as :mod:`shopagent.tools`,
``evals/`` as :mod:`shopagent.evals` and ``prompts/`` as :mod:`shopagent.prompts`.
"""

__version__ = "0.1.0"
