// Outputs of a fit: the JSON document, the console table and the
// out-of-fold predictions CSV (written and read back for audit and reuse).
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"
#include "fastdml/sensitivity.h"
#include "fastdml/trim.h"
#include "io/atomic_file.h"  // WriteFileAtomic, used for every output

namespace fastdml::io {

// The JSON document. with_timings = false leaves out the wall-clock
// "timings" block, so that one seed gives byte-identical files whatever the
// thread count (--no-timings). NaN or infinite numbers become null and are
// named in a W-NONFINITE warning.
// The settings of a fit (model, estimands, folds, seeds, learners, device) as
// JSON: the report's "options" and the header of a fit file (io/fit_file.h)
// are written by this one function.
nlohmann::json FitOptionsJson(const Options& o);

// True when some nuisance early-stops or --tune searches (an inner validation split).
bool UsesValidationSplit(const Options& o);
// diagnostics.nuisance_tuning: per nuisance, each (rep, fold) model's
// hyperparameters, rounds and validation loss, and the tuning searches.
nlohmann::json TuningJson(const std::vector<NuisanceTuning>& tuning);
// Reads TuningJson back (the fit file keeps it); throws nlohmann's exceptions.
std::vector<NuisanceTuning> ParseTuningJson(const nlohmann::json& j);

nlohmann::json ReportJson(const Report& report, const Fit& fit, const Dataset& data,
                          bool with_timings = true);
// Adds the top-level sections of `sections` (GATE, BLP, CATE model, ...) to
// a ReportJson document with the same rules: no "seconds" without timings,
// NaN/infinity named in a W-NONFINITE warning.
void AddJsonSections(nlohmann::json* doc, const nlohmann::json& sections, bool with_timings = true);
void PrintTable(std::ostream& os, const Report& report, const Fit& fit, const Dataset& data);

// Grids (several outcomes x treatments in one run; docs/cli.md, "Grids").
// Adds "outcome" and "treatment" to a section: to the object, or to every
// object of the array.
void TagCell(nlohmann::json* section, const std::string& outcome, const std::string& treatment);
// Adds one cell's sections (GATE, BLP, ...) to a grid's: each section becomes
// an array of the cells' entries, each tagged with its cell.
void AddCellSections(nlohmann::json* grid_sections, nlohmann::json cell_sections, const std::string& outcome,
                     const std::string& treatment);
// The grid's document from its cells' ReportJson documents (cell order):
// "estimates" of every cell (each tagged), "cells" with each cell's
// diagnostics and naive difference, options listing "outcomes" and
// "treatments"; bootstrap, timings and the rest from the first cell.
nlohmann::json GridReportJson(std::vector<nlohmann::json> cell_docs);
// --sensitivity: {"sensitivity": [...], "sensitivity_elements": [...],
// "sensitivity_grid": [...]} (docs/sensitivity.md) and its printed table.
// --trim: the "trimming" JSON section and the line printed above the table.
nlohmann::json TrimmingJson(const TrimmedSample& t);
void PrintTrimming(std::ostream& os, const TrimmedSample& t);
// "sensitivity_benchmark" is added when benchmarks are given.
nlohmann::json SensitivityJson(const SensitivityReport& s, const std::vector<SensitivityBenchmark>& benchmarks = {});
void PrintSensitivity(std::ostream& os, const SensitivityReport& s,
                      const std::vector<SensitivityBenchmark>& benchmarks = {});

// CSV with header outcome,treatment,row,rep,fold,m_hat,g0_hat,g1_hat,l_hat;
// one line per (cell, row, rep), 0-based; empty cells where a model does not
// apply. One cell per (outcome name, treatment name, predictions) entry.
struct CellPredictions {
  std::string outcome, treatment;
  const Predictions* predictions = nullptr;
};
void WritePredictionsCsv(const std::string& path, const std::vector<CellPredictions>& cells);
// Reads that format back (one cell; the outcome and treatment columns may be
// absent, as files before grids had them) for a dataset of n rows. Throws DataError naming the
// line or the (row, rep) pair that is missing, repeated or out of range.
Predictions ReadPredictionsCsv(const std::string& path, std::size_t n);


}  // namespace fastdml::io
