"""Eval suite: scripted conversations scored end to end."""

if __name__ != "shopagent.evals":  # the folder is on sys.path (e.g. run from the repo root)
    raise ImportError(f"import ShopAgent's evals/ as shopagent.evals, not as {__name__}")
