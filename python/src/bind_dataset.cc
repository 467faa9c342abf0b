// fastdml._ext: the Dataset, whose buffers Python fills through writable views.
#include "bindings.h"

#include <cstdint>
#include <string>

#include "fastdml/error.h"
#include "fastdml/estimator.h"

namespace fastdml {

void BindDataset(nb::module_& m) {
  nb::class_<Dataset>(m, "Dataset")
      .def("__init__",
           [](Dataset* self, std::size_t n, std::size_t p) {
             new (self) Dataset();
             self->n = n;
             self->p = p;
             self->x.assign(n * p, 0.0f);
             self->y.assign(n, 0.0);
             self->d.assign(n, 0.0);
           },
           "n"_a, "p"_a)
      .def_ro("n", &Dataset::n)
      .def_ro("p", &Dataset::p)
      // Writable views into the engine's own buffers (the owner stays alive).
      .def_prop_ro("x", [](Dataset& s) { return nb::ndarray<nb::numpy, float, nb::ndim<2>>(s.x.data(), {s.n, s.p}); },
                   nb::rv_policy::reference_internal)
      .def_prop_ro("y", [](Dataset& s) { return View1<double>(s.y.data(), {s.n}); },
                   nb::rv_policy::reference_internal)
      .def_prop_ro("d", [](Dataset& s) { return View1<double>(s.d.data(), {s.n}); },
                   nb::rv_policy::reference_internal)
      .def("alloc_weights",
           [](Dataset& s) {
             s.weights.assign(s.n, 1.0);
             return View1<double>(s.weights.data(), {s.n});
           },
           nb::rv_policy::reference_internal)
      .def("set_clusters",
           [](Dataset& s, In1<std::int32_t> ids, std::int32_t n_clusters, const std::string& name) {
             s.cluster.assign(ids.data(), ids.data() + ids.shape(0));
             s.n_clusters = n_clusters;
             s.cluster_name = name;
           },
           "ids"_a, "n_clusters"_a, "name"_a)
      .def_ro("n_clusters", &Dataset::n_clusters)  // 0 without clusters
      .def("set_folds", [](Dataset& s, In1<std::int32_t> f) { s.fold.assign(f.data(), f.data() + f.shape(0)); })
      .def_rw("feature_names", &Dataset::feature_names)
      .def_rw("outcome_name", &Dataset::outcome_name)
      .def_rw("treatment_name", &Dataset::treatment_name)
      // A grid (several outcomes x treatments, FitGrid): sizes one n-vector per
      // named column, filled through the writable views below; y, d and the
      // pair's names then hold the current cell (select_cell) copies.
      .def("set_grid",
           [](Dataset& s, const std::vector<std::string>& outcome_names,
              const std::vector<std::string>& treatment_names) {
             s.outcome_names = outcome_names;
             s.treatment_names = treatment_names;
             s.outcomes.assign(outcome_names.size(), std::vector<double>(s.n, 0.0));
             s.treatments.assign(treatment_names.size(), std::vector<double>(s.n, 0.0));
           },
           "outcome_names"_a, "treatment_names"_a)
      .def("grid_outcome",
           [](Dataset& s, std::size_t j) {
             if (j >= s.outcomes.size()) throw UsageError("grid_outcome: no outcome " + std::to_string(j));
             return View1<double>(s.outcomes[j].data(), {s.n});
           },
           nb::rv_policy::reference_internal)
      .def("grid_treatment",
           [](Dataset& s, std::size_t k) {
             if (k >= s.treatments.size()) throw UsageError("grid_treatment: no treatment " + std::to_string(k));
             return View1<double>(s.treatments[k].data(), {s.n});
           },
           nb::rv_policy::reference_internal)
      .def("select_cell", &Dataset::SelectCell, "outcome"_a, "treatment"_a)
      .def_prop_ro("is_grid", &Dataset::IsGrid)
      .def_ro("outcome_names", &Dataset::outcome_names)
      .def_ro("treatment_names", &Dataset::treatment_names)
      .def("validate", [](const Dataset& s, std::size_t min_rows, bool binary) { ValidateDataset(s, min_rows, binary); },
           "min_rows"_a, "binary_treatment"_a);
}

}  // namespace fastdml
