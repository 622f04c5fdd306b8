"""The agent layer: understanding, answering, models, the graph, and its CLI and server."""

if __name__ != "shopagent.agent":  # the folder is on sys.path (e.g. run from the repo root)
    raise ImportError(f"import ShopAgent's agent/ as shopagent.agent, not as {__name__}")
