# Pinned versions shared by every set-up script.
XGBOOST_VERSION=3.2.0
DOUBLEML_VERSION=0.11.4
# Python package build (scripts/python-package) and the executed notebooks.
NANOBIND_VERSION=3.1.0
SCIKIT_BUILD_CORE_VERSION=1.1.2
PYARROW_VERSION=26.0.1
MATPLOTLIB_VERSION=3.11.2
NBCLIENT_VERSION=0.11.0
NBFORMAT_VERSION=5.11.1
IPYKERNEL_VERSION=7.4.0
# EconML (comparison notebook); its requirements keep numpy and scikit-learn
# at what DoubleML and XGBoost need (checked with pip install --dry-run).
ECONML_VERSION=0.17.0
# Public data sets (NHEFS, LaLonde NSW/CPS) for bench/public_data.py; it
# needs pandas and statsmodels, both already here (EconML's requirements).
CAUSALDATA_VERSION=0.1.5
