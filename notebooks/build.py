"""Writes the notebooks from the cell sources below and executes them (nbclient),
saving them with their outputs. Run after changing a notebook:

    .venv/bin/python notebooks/build.py [quickstart|case_study|comparison ...]

CI does not run this: tests/python/test_notebooks.py re-executes the committed
notebooks and fails on any error.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text):
    return nbformat.v4.new_code_cell(text.strip())


MACHINE = code("""
import os, platform
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}")
""")

QUICKSTART = [
    md("""
# fastdml quickstart

Double machine learning for a binary decision: does following a stock
recommendation make sellers sell more? `fastdml.DML` cross-fits XGBoost
nuisance models (propensity and outcome) in C++ and estimates the ATE and ATT
from orthogonal scores. The data here are simulated, so the true effects are
known.
"""),
    code("""
import numpy as np
import pandas as pd
import fastdml
fastdml.build_info()
"""),
    MACHINE,
    md("`fastdml.simulate` gives the same data as `fastdml simulate --design seller` and the known truth."),
    code("""
df, truth = fastdml.simulate("seller", n=5000, p=10, seed=1)
df = df.rename(columns={"y": "revenue", "d": "followed"})
features = [c for c in df.columns if c not in ("revenue", "followed", "seller_id")]
df.head()
"""),
    md("Fit once: 5-fold cross-fitting of a propensity model and a pooled outcome model."),
    code("""
dml = fastdml.DML(model="irm", n_folds=5, n_rep=1,
                  outcome_learner={"rounds": 100, "max_depth": 4, "eta": 0.1},
                  propensity_learner={"rounds": 100, "max_depth": 3, "eta": 0.1},
                  device="auto", seed=0)
dml.fit(df, outcome="revenue", treatment="followed", features=features)
dml.summary()
"""),
    code("""
print(f"true ATE {truth['ate']:.3f}, true ATT {truth['att']:.3f}")
print(f"naive difference in means {dml.naive()['estimate']:.3f} (selection bias: not causal)")
"""),
    md("""
Everything after `fit` re-uses the stored out-of-fold predictions: other
estimands, clipping, Hajek normalisation, levels and the bootstrap train no
model (the counter of XGBoost trainings does not move).
"""),
    code("""
before = fastdml.nuisance_models_trained()
print(dml.att(clip=0.05, normalize_ipw=True))
dml.bootstrap(B=2000, method="normal", seed=1)
print(dml.confint(level=0.95, joint=True))
print("models trained by re-estimation:", fastdml.nuisance_models_trained() - before)
"""),
    md("Out-of-fold predictions and folds as arrays, shape (n, n_rep); the full report as JSON (the CLI's document)."),
    code("""
p = dml.predictions
print({k: v.shape for k, v in p.items()})
print(dml.to_json()[:400])
"""),
    md("Arrays work too (numpy, pandas, pyarrow; X is copied once into the engine as float32)."),
    code("""
X = df[features].to_numpy()
same = fastdml.DML(outcome_learner={"rounds": 100, "max_depth": 4}, propensity_learner={"rounds": 100, "max_depth": 3},
                   seed=0).fit(X, df["revenue"].to_numpy(), df["followed"].to_numpy())
cols = ["estimate", "se", "ci_lower", "ci_upper"]
same.summary()[cols].equals(dml.summary()[cols])  # identical: same data, seed and settings
"""),
]

CASE_STUDY = [
    md("""
# Case study: does following the recommendation help?

A marketplace recommends stock levels to its sellers; some follow the advice.
Followers sell more, but they are also the more proactive and experienced
sellers. How much of the difference is caused by following? This notebook uses
the simulated seller data (`fastdml simulate --design seller`), whose true
effects are known, so every estimate can be checked.
"""),
    code("""
import numpy as np
import pandas as pd
import matplotlib
import matplotlib.pyplot as plt
import fastdml
plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (6.5, 3.6)})
"""),
    MACHINE,
    code("""
df, truth = fastdml.simulate("seller", n=10000, p=10, seed=3)
df = df.rename(columns={"y": "revenue", "d": "followed"})
df["category_name"] = df["category"].map(dict(enumerate(fastdml.SELLER_CATEGORIES)))
features = [c for c in df.columns if c not in ("revenue", "followed", "seller_id", "category_name")]
print(f"{len(df)} listings of {df.seller_id.nunique()} sellers; {df.followed.mean():.1%} followed")
df.groupby("followed")[["revenue", "proactiveness_score", "experience_years", "inventory_level"]].mean()
"""),
    md("## The naive comparison against DML"),
    code("""
dml = fastdml.DML(model="irm", n_folds=5,
                  outcome_learner={"rounds": 150, "max_depth": 4, "eta": 0.1},
                  propensity_learner={"rounds": 150, "max_depth": 3, "eta": 0.1},
                  seed=0)
# Sellers own many listings: cluster-robust inference by seller.
dml.fit(df, outcome="revenue", treatment="followed", features=features, clusters="seller_id")
s = dml.summary()
naive = dml.naive()
compare = pd.DataFrame({
    "estimate": [naive["estimate"], s.loc["ate", "estimate"], s.loc["att", "estimate"]],
    "se": [naive["se"], s.loc["ate", "se"], s.loc["att", "se"]],
    "truth": [truth["ate"], truth["ate"], truth["att"]],
}, index=["naive difference", "DML ATE", "DML ATT"])
compare["error / se"] = (compare["estimate"] - compare["truth"]) / compare["se"]
compare.round(3)
"""),
    md("""
The naive difference is several times the true effect: it mixes the effect of
following with who follows. DML removes the selection on the observed
covariates and lands within about one or two standard errors of the truth.

## ATE against ATT

The ATT (effect on those who followed) is higher than the ATE here because
followers hold less inventory, where the recommendation helps more.
"""),
    md("""
The same stored predictions give the effect on those who did *not* follow
(ATC: should the recommendation be pushed to them?) and the overlap-weighted
ATE (ATO), which weights each listing by m(X)(1 - m(X)): it targets the
listings whose decision could have gone either way and stays stable when
propensities come close to 0 or 1. None of them trains a model.
"""),
    code("""
others = pd.DataFrame({e: getattr(dml, e)()[["estimate", "se", "ci_lower", "ci_upper"]]
                       for e in ("ate", "att", "atc", "ato")}).T
others["truth"] = [truth[e] for e in others.index]
others.round(3)
"""),
    code("""
dml.bootstrap(B=2000, seed=1)
pd.concat([dml.confint(), dml.confint(joint=True).add_prefix("joint_")], axis=1).round(3)
"""),
    md("""
## Sensitivity to an unobserved confounder

DML removes the selection that the recorded covariates explain. Proactiveness
is recorded only through a noisy score, so part of it stays hidden. How strong
would a hidden confounder have to be to explain the effect away? The
omitted-variable-bias bounds of Chernozhukov, Cinelli, Newey, Sharma and
Syrgkanis (2024) answer from the stored predictions, without retraining. A
confounder that explains a share `cf_y` of the outcome's residual variation
and a share `cf_d` of the Riesz representer's (here the inverse-propensity
weight) moves the estimate at most to `theta_lower`/`theta_upper`; the
robustness value `rv` is the `cf_y = cf_d` at which the bound reaches zero, `rva`
where the confidence bound does.
"""),
    code("""
before = fastdml.nuisance_models_trained()
sens = dml.sensitivity(scenarios=[dict(cf_y=0.03, cf_d=0.03, rho=1.0), dict(cf_y=0.1, cf_d=0.1, rho=1.0)],
                       null_hypothesis=0.0)
cols = ["estimand", "cf_y", "cf_d", "theta", "theta_lower", "theta_upper", "ci_lower", "ci_upper", "rv", "rva"]
print(sens[cols].round(3).to_string(index=False))
print("models trained by sensitivity():", fastdml.nuisance_models_trained() - before)
for _, r in sens.iloc[:2].iterrows():
    print(f"{r.estimand}: a confounder explaining {r.rv:.1%} of both residual variations would move the "
          f"estimate to 0 ({r.rva:.1%} for the {sens.attrs['level']:.0%} confidence bound)")
"""),
    md("""
The contour plot shows the lower bound of the ATE over (`cf_d`, `cf_y`). With
`null_hypothesis=1` the red line marks the confounders that would shrink the
effect to 1 (under a third of the estimate); the X is the scenario asked for,
labelled with its bound. `benchmarks={"name": (cf_y, cf_d)}` marks strengths
such as those an observed covariate would imply.
"""),
    code("""
dml.sensitivity(cf_y=0.03, cf_d=0.03, rho=1.0, null_hypothesis=1.0)
ax = dml.sensitivity_plot(estimand="ate", levels=12)
plt.show()
"""),
    md("""
How strong is "strong"? `sensitivity_benchmark` refits the nuisances without
an observed covariate and reports the `cf_y`, `cf_d` and `rho` that leaving it
out implies: a hidden confounder as strong as proactiveness (its noisy score)
or as experience. This trains models (one fit per benchmark); the bound at
that strength is beside it.
"""),
    code("""
bench = pd.concat([dml.sensitivity_benchmark(["proactiveness_score"]),
                   dml.sensitivity_benchmark(["experience_years"])], ignore_index=True)
print(bench.round(3).to_string(index=False))
ate_bench = bench[bench.estimand == "ate"]
# A share of 1 is the cap (the covariate explains more than all the residual variation left): no finite bound.
marks = {r.features: (r.cf_y, r.cf_d) for r in ate_bench.itertuples() if r.cf_y < 1 and r.cf_d < 1}
print("beyond any bound:", [r.features for r in ate_bench.itertuples() if not (r.cf_y < 1 and r.cf_d < 1)])
ax = dml.sensitivity_plot(estimand="ate", benchmarks=marks, levels=12)
ax.legend(loc="upper left", fontsize=8)  # off the benchmark's label
ax.set_xlim(right=0.25)  # room for a benchmark just beyond the grid (cf up to 0.15)
plt.show()
"""),
    md("""
Read the table row by row: `cf_y` and `cf_d` are the strength a hidden
confounder as strong as that covariate would have, `delta_theta` how far
leaving the covariate out moved the estimate, and `theta_lower` the effect
left at that strength. Proactiveness is the selection here: leaving its score
out moves the ATE by several times its size and caps `cf_y` at 1, so a hidden
trait as strong as proactiveness could explain the effect away, which is why
recording it matters. A confounder as strong as experience is the labelled
dot. The plot assumes the worst case, rho = 1: there the dot lies beyond the
red line, and its bound (in brackets) is below 1. At the rho that experience
itself implies (the table's `rho`, about 0.4) the bound is the table's
`theta_lower`, still well above zero.

## Overlap: propensity scores by arm

`overlap_plot()` draws the out-of-fold propensities of each arm; mass near 0
or 1 in one arm only means listings without comparable counterparts.
"""),
    code("""
ax = dml.overlap_plot()
plt.show()
o = dml.overlap
print({k: o[k] for k in ("propensity_min", "propensity_max", "ipw_ess_treated", "ipw_ess_control")})
"""),
    md("""
`balance_plot()` is a love plot: the standardized mean difference of each
feature between the arms, raw and after inverse-propensity weighting. Weighted
differences below 0.1 (the dashed line) mean that the weighting balanced that
covariate; proactiveness and experience, the drivers of selection, are far
apart raw.
"""),
    code("""
ax = dml.balance_plot()
plt.show()
dml.balance.round(3)
"""),
    md("## The bootstrap distribution"),
    code("""
t = dml.boot_t_stat[:, :, 0]
fig, ax = plt.subplots()
for j, name in enumerate(s.index):
    theta_star = s.loc[name, "estimate"] + s.loc[name, "se"] * t[:, j]
    ax.hist(theta_star, bins=50, alpha=0.6, label=name)
    ax.axvline(truth[name], color="k", lw=1)
ax.set_xlabel("bootstrap estimate (estimate + se * t*)"); ax.legend(); ax.set_title("multiplier bootstrap, B = 2000")
plt.show()
"""),
    md("""
## Effects by category and inventory level

Group average treatment effects (GATE) re-use the same stored predictions: an
OLS of the orthogonal signal on group dummies (Semenova and Chernozhukov 2021),
with cluster-robust covariance by seller and joint (sup-t) bands over the
groups. The simulation's true group effects are beside them.
"""),
    code("""
before = fastdml.nuisance_models_trained()
by_cat = dml.gate(by=df["category_name"], cov="cluster", B=2000, seed=2)
true_cat = {fastdml.SELLER_CATEGORIES[int(k)]: v for k, v in truth["gate"]["category"].items()}
by_cat["truth"] = [true_cat[c] for c in by_cat.index]
by_inv = dml.gate(by="inventory_level", bins=5, cov="cluster", B=2000, seed=2)
by_inv["truth"] = [truth["gate"]["inventory_quintile"][str(q)] for q in range(5)]
print("models trained by gate():", fastdml.nuisance_models_trained() - before)
cols = ["n", "estimate", "se", "ci_lower", "ci_upper", "joint_ci_lower", "joint_ci_upper", "truth"]
display(by_cat[cols].round(3), by_inv[cols].round(3))
"""),
    code("""
def forest(ax, g, title):
    y = np.arange(len(g))[::-1]
    ax.hlines(y, g["joint_ci_lower"], g["joint_ci_upper"], color="0.75", lw=6, label="joint 95% band")
    ax.hlines(y, g["ci_lower"], g["ci_upper"], color="C0", lw=2, label="95% CI")
    ax.plot(g["estimate"], y, "o", color="C0", label="GATE")
    ax.plot(g["truth"], y, "x", color="k", ms=8, label="truth")
    ax.axvline(s.loc["ate", "estimate"], color="C3", ls="--", lw=1, label="ATE")
    ax.set_yticks(y, g.index); ax.set_title(title); ax.set_xlabel("effect of following on revenue")

fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
forest(a1, by_cat, "by category")
forest(a2, by_inv, "by inventory quintile")
a2.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
fig.tight_layout(); plt.show()
"""),
    md("""
Following helps most in grocery and toys and least in electronics, and much
more for sellers with little inventory: the effect falls steadily across the
inventory quintiles. The best linear predictor of the effect on inventory and
category summarises the same pattern in one regression:
"""),
    code("""
dml.blp("inventory_level,cat(category)", cov="cluster").round(3)
"""),
    md("""
## Trimming to comparable propensities

`estimate(trim="crump")` keeps the listings whose propensity lies in
[alpha, 1 - alpha], with alpha chosen by the rule of Crump, Hotz, Imbens and
Mitnik (2009), and estimates on them from the same stored predictions (no
training). The trimming dict says which alpha was chosen and how many rows of
each arm were kept.
"""),
    code("""
dml.estimate(trim="crump")
print(dml.trimming)
print(dml.summary()[["estimate", "se", "ci_lower", "ci_upper"]].round(3))
dml.estimate(trim=None);  # back to the full sample (GATE and BLP need it)
"""),
    md("""
The trimmed ATE is the effect among the listings kept, a different population
from the whole sample: compare it with the ATO rather than with the ATE, and
report alpha and `rows_kept` with it.
"""),
]

COMPARISON = [
    md("""
# fastdml, DoubleML and EconML on the same data

The same simulated seller data, the same cross-fitting design (5 folds), and
XGBoost nuisance models with the same settings (100 rounds, depth 4, eta 0.1,
hist, one thread per model) in all three. Estimates side by side, and the
wall time of each fit on the machine printed below (fastdml runs its fold
models concurrently on all cores; the others fit them one after another).
The estimates differ by Monte Carlo noise of the different fold splits and
XGBoost seeds; agreement to 1e-9 given identical predictions is tested
elsewhere (tests/python/test_doubleml_agreement.py).
"""),
    code("""
import time, warnings
warnings.filterwarnings("ignore")
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import xgboost as xgb
import doubleml as dml_py
from econml.dr import LinearDRLearner
import fastdml
warnings.filterwarnings("ignore")
plt.rcParams.update({"figure.dpi": 80})
"""),
    MACHINE,
    code("""
df, truth = fastdml.simulate("seller", n=5000, p=10, seed=5)
features = [c for c in df.columns if c not in ("y", "d", "seller_id")]
X, y, d = df[features].to_numpy(), df["y"].to_numpy(), df["d"].to_numpy()
params = dict(n_estimators=100, max_depth=4, learning_rate=0.1, tree_method="hist", n_jobs=1)
results, seconds = {}, {}
"""),
    code("""
t0 = time.perf_counter()
f = fastdml.DML(model="irm", n_folds=5, outcome_learner={"rounds": 100, "max_depth": 4, "eta": 0.1},
                propensity_learner={"rounds": 100, "max_depth": 4, "eta": 0.1},
                device="cpu", seed=0, estimands=["ate"], outcome_design="separate").fit(X, y, d)
seconds["fastdml"] = time.perf_counter() - t0
results["fastdml"] = f.ate()[["estimate", "se", "ci_lower", "ci_upper"]]
"""),
    code("""
t0 = time.perf_counter()
data = dml_py.DoubleMLData.from_arrays(X, y, d)
ref = dml_py.DoubleMLIRM(data, ml_g=xgb.XGBRegressor(**params), ml_m=xgb.XGBClassifier(**params),
                         n_folds=5, score="ATE", trimming_threshold=0.01)
np.random.seed(0)
ref.fit()
seconds["DoubleML"] = time.perf_counter() - t0
ci = ref.confint().iloc[0]
results["DoubleML"] = pd.Series({"estimate": ref.coef[0], "se": ref.se[0], "ci_lower": ci.iloc[0], "ci_upper": ci.iloc[1]})
"""),
    code("""
t0 = time.perf_counter()
est = LinearDRLearner(model_propensity=xgb.XGBClassifier(**params), model_regression=xgb.XGBRegressor(**params),
                      cv=5, min_propensity=0.01, random_state=0)
est.fit(y, d, X=None, W=X)
seconds["EconML"] = time.perf_counter() - t0
inf = est.intercept__inference(T=1)
lo, hi = est.intercept__interval(T=1, alpha=0.05)
results["EconML"] = pd.Series({"estimate": float(est.intercept_(T=1)), "se": float(inf.stderr), "ci_lower": float(lo),
                               "ci_upper": float(hi)})
"""),
    code("""
table = pd.DataFrame(results).T
table["seconds"] = pd.Series(seconds)
table["truth (ATE)"] = truth["ate"]
table.round(3)
"""),
    code("""
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
names = list(table.index)
a1.errorbar(table["estimate"], range(len(names)), xerr=[table["estimate"] - table["ci_lower"],
            table["ci_upper"] - table["estimate"]], fmt="o", capsize=4)
a1.axvline(truth["ate"], color="k", ls="--", lw=1, label="true ATE")
a1.set_yticks(range(len(names)), names); a1.set_xlabel("ATE, 95% CI"); a1.legend()
a2.barh(range(len(names)), table["seconds"]); a2.set_yticks(range(len(names)), names)
a2.set_xlabel("wall seconds (fit + inference)")
fig.tight_layout(); plt.show()
"""),
]

NOTEBOOKS = {"quickstart": QUICKSTART, "case_study": CASE_STUDY, "comparison": COMPARISON}


def build(name: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = NOTEBOOKS[name]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    path = HERE / f"{name}.ipynb"
    nbformat.write(nb, path)
    print(f"{path.name}: executed in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    for name in sys.argv[1:] or list(NOTEBOOKS):
        build(name)
