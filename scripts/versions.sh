# Pinned versions shared by every set-up script.
XGBOOST_VERSION=3.2.0
DOUBLEML_VERSION=0.11.4
