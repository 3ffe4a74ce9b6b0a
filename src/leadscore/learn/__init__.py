"""Learning from outcomes: metrics, flat lead tables, leakage checks, predictive and points learners.

Importing this package is cheap: scikit-learn and LightGBM are imported inside the functions and
methods that need them (they come with the ``[ml]`` extra), never at import time.
"""

# Registers the runner of saved predictive models with the engine (the model file's `predictive` layers).
from leadscore.learn import predictive_layer as _predictive_layer  # noqa: F401
