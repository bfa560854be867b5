"""Training newstag's model: the bundled corpus, corpus checks, training, evaluation, reports."""
