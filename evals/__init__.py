"""Eval suite: scripted conversations scored end to end."""
