"""Learning from outcomes: metrics, flat lead tables, leakage checks, predictive and points learners.

Importing this package is cheap: scikit-learn and LightGBM are imported inside the functions and
methods that need them (they come with the ``[ml]`` extra), never at import time.
"""
