"""newstag's model: taxonomy, text normalisation, tokenizer, pipeline, predictions, artifacts.

This package knows nothing of HTTP or of the command line.
"""
