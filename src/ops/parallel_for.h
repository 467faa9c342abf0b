// The one host thread pool of the engine: the bootstrap's replicate groups,
// the nuisance fits' tasks and the DR-learner's folds all run through
// ParallelFor. Callers make each index's result independent of the thread
// that runs it, so results never depend on the thread count.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace fastdml::ops {

// `threads` when positive, else the number of hardware threads (at least 1).
inline int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Runs body(i, worker) for every i in [0, count) on min(threads, count)
// workers (fewer if the system refuses a thread); worker 0 is the calling
// thread (a CUDA caller keeps its device).
// Indices are handed out in increasing order as workers become free. The
// first exception thrown (in time) stops the handing out and is rethrown
// once every worker has returned.
template <class Body>
void ParallelFor(std::int64_t count, int threads, const Body& body) {
  const int nt = static_cast<int>(std::min<std::int64_t>(std::max(threads, 1), count));
  if (nt <= 1) {
    for (std::int64_t i = 0; i < count; ++i) body(i, 0);
    return;
  }
  std::atomic<std::int64_t> next(0);
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&](int w) {
    for (;;) {
      const std::int64_t i = next.fetch_add(1);
      if (i >= count) break;
      try {
        body(i, w);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next.store(count);
        break;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(nt - 1));
  // A thread that cannot be started (the system's limit) leaves the work to
  // the threads that did start: never std::terminate on a joinable thread.
  for (int w = 1; w < nt; ++w) {
    try {
      pool.emplace_back(worker, w);
    } catch (const std::system_error&) {
      break;
    }
  }
  worker(0);
  for (std::thread& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace fastdml::ops
