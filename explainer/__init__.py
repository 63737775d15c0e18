"""em-explainer: step-by-step worked solutions of EM for Gaussian mixture models.

The flow: spec -> :class:`~explainer.problem.Problem` -> :func:`~explainer.engine.run`
-> :class:`~explainer.trace.Trace` -> render (Markdown via templates, JSON).
"""

__version__ = "0.1.0"
