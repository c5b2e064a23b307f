#include "backprop/parallel.hpp"

#include <omp.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace backprop {
namespace {

constexpr Eigen::Index kMinimumRows = 128;
constexpr int kMaximumBlocks = 8;

int threads_in_effect = 1;

Eigen::Index block_rows(Eigen::Index rows) {
  const Eigen::Index per_block = (rows + kMaximumBlocks - 1) / kMaximumBlocks;
  // Round up to a multiple of 16 rows.
  return std::max(kMinimumRows, (per_block + kMinimumRows - 1) / kMinimumRows * kMinimumRows);
}

class Team;
Team& team();

// The team behind for_each_pinned_share: helpers 1..n-1, each spinning on
// the call count for a while after a call before it sleeps on it.
// The padding between the three groups of members below is the point: a
// line written by one core is not also a line the other core writes.
class Team {  // NOLINT(clang-analyzer-optin.performance.Padding)
 public:
  Team() {
    pthread_atfork(nullptr, nullptr, [] { team().forget_helpers(); });
  }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;
  Team(Team&&) = delete;
  Team& operator=(Team&&) = delete;
  ~Team() { resize(1); }

  // Runs the shares with `threads` threads; false if the team is busy.
  bool run(int threads, int shares, const std::function<void(int)>& body) {
    const std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    if (static_cast<int>(helpers_.size()) + 1 != threads) resize(threads);
    body_ = &body;
    shares_ = shares;
    for (auto& error : errors_) error = nullptr;
    // Every helper answers every call, working or not, so that none reads
    // this call's body and share count while the next call writes them.
    pending_.store(threads - 1, std::memory_order_relaxed);
    // Sequentially consistent, with the helpers' side of it: a helper that
    // counts itself asleep after this load still sees the new count.
    calls_.fetch_add(1);
    if (sleepers_.load() > 0) calls_.notify_all();
    work(0);
    // The caller spins too: the helpers' shares take microseconds.
    while (pending_.load(std::memory_order_acquire) > 0) pause();
    for (const auto& error : errors_) {
      if (error) std::rethrow_exception(error);
    }
    return true;
  }

 private:
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  void work(int thread) {
    const int threads = static_cast<int>(helpers_.size()) + 1;
    inside_ = true;
    try {
      for (int share = thread; share < shares_; share += threads) (*body_)(share);
    } catch (...) {
      errors_[static_cast<std::size_t>(thread)] = std::current_exception();
    }
    inside_ = false;
  }

  // `seen` is the call count when the helper was made: read here, the first
  // call could already have counted itself.
  void serve(int thread, unsigned seen) {
    // How long a helper spins for the next call before it sleeps: longer
    // than the gaps inside a training step, short enough not to hold a core
    // long after training ends.
    constexpr auto kSpin = std::chrono::microseconds(200);
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      unsigned now = seen;
      for (int spin = 0; (now = calls_.load(std::memory_order_acquire)) == seen; ++spin) {
        pause();
        if (spin % 256 == 255 && std::chrono::steady_clock::now() - start > kSpin) {
          sleepers_.fetch_add(1);
          calls_.wait(seen);
          sleepers_.fetch_sub(1);
        }
      }
      seen = now;
      if (stop_.load(std::memory_order_acquire)) return;
      work(thread);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  // In a child process after fork() the helpers are gone (only the forking
  // thread is copied): let go of them, and start new ones on the next call.
  void forget_helpers() {
    for (auto& helper : helpers_) helper.detach();
    helpers_.clear();
    pending_.store(0, std::memory_order_relaxed);
    sleepers_.store(0, std::memory_order_relaxed);
  }

  void resize(int threads) {
    if (!helpers_.empty()) {
      stop_.store(true, std::memory_order_release);
      calls_.fetch_add(1, std::memory_order_release);
      calls_.notify_all();
      for (auto& helper : helpers_) helper.join();
      helpers_.clear();
      stop_.store(false, std::memory_order_release);
    }
    errors_.assign(static_cast<std::size_t>(threads), nullptr);
    for (int thread = 1; thread < threads; ++thread) {
      helpers_.emplace_back([this, thread, seen = calls_.load()] { serve(thread, seen); });
    }
  }

  // A cache line the caller writes once per call and the helpers read...
  alignas(64) std::atomic<unsigned> calls_ = 0;
  const std::function<void(int)>* body_ = nullptr;
  int shares_ = 0;
  std::atomic<bool> stop_ = false;
  // ...one the helpers write once per call...
  alignas(64) std::atomic<int> pending_ = 0;
  // ...and the rest, written when helpers sleep, start or fail.
  alignas(64) std::atomic<int> sleepers_ = 0;
  std::mutex mutex_;
  std::vector<std::thread> helpers_;
  std::vector<std::exception_ptr> errors_;
  static thread_local bool inside_;

  friend bool inside_share();
  friend Team& team();
};

thread_local bool Team::inside_ = false;

bool inside_share() { return Team::inside_; }

Team& team() {
  static Team instance;
  return instance;
}

}  // namespace

int set_threads(int threads) {
  const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  threads_in_effect = threads <= 0 ? cores : threads;
  omp_set_num_threads(threads_in_effect);
  return threads_in_effect;
}

int threads() { return threads_in_effect; }

int block_count(Eigen::Index rows) {
  const Eigen::Index size = block_rows(rows);
  return static_cast<int>((rows + size - 1) / size);
}

void for_each_block(Eigen::Index rows,
                    const std::function<void(Eigen::Index begin, Eigen::Index size)>& body) {
  const Eigen::Index size = block_rows(rows);
  const int blocks = block_count(rows);
  const auto run = [&](int block) {
    const Eigen::Index begin = block * size;
    body(begin, std::min(size, rows - begin));
  };
  if (threads_in_effect == 1 || blocks == 1) {
    for (int block = 0; block < blocks; ++block) run(block);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(threads_in_effect)
  for (int block = 0; block < blocks; ++block) run(block);
}

void for_each_share(Eigen::Index count, Eigen::Index granule, Eigen::Index minimum,
                    const std::function<void(Eigen::Index begin, Eigen::Index end)>& body) {
  const Eigen::Index granules = (count + granule - 1) / granule;
  const auto shares =
      static_cast<int>(count < minimum ? 1 : std::min<Eigen::Index>(threads_in_effect, granules));
  if (shares <= 1) {
    body(0, count);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(shares)
  for (int share = 0; share < shares; ++share) {
    const Eigen::Index begin = granules * share / shares * granule;
    const Eigen::Index end = std::min(count, granules * (share + 1) / shares * granule);
    body(begin, end);
  }
}

void for_each_pinned_share(int shares, const std::function<void(int share)>& body) {
  if (threads_in_effect <= 1 || shares <= 1 || inside_share() ||
      !team().run(threads_in_effect, shares, body)) {
    for (int share = 0; share < shares; ++share) body(share);
  }
}

Eigen::Index input_cut(Eigen::Index inputs) {
  constexpr Eigen::Index kMinimumInputs = 512;
  constexpr Eigen::Index kLine = 16;
  if (inputs < kMinimumInputs) return inputs;
  return (inputs / 2 + kLine / 2) / kLine * kLine;
}

}  // namespace backprop
