#include "backprop/parallel.hpp"

#include <omp.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
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
//
// A share is claimed before it runs: its own thread claims it as soon as it
// sees the call, and the caller, done with its own shares, takes any that
// no helper has claimed yet. A helper that the system has taken off its
// core (another process wanted it) thus costs the caller nothing while it
// is away, where waiting for it would cost a whole time slice, milliseconds
// against a step of microseconds. Where the caller still waits long for a
// claimed share (its helper was taken off mid-share), the next calls run
// on the caller alone, for longer each time it happens again. A share
// computes the same whichever thread runs it.
//
// The padding between the groups of members below is the point: a line
// written by one core is not also a line the other core writes.
class Team {  // NOLINT(clang-analyzer-optin.performance.Padding)
 public:
  // Shares beyond this many are run in order on the caller (a claim is a bit).
  static constexpr int kMostShares = 32;

  Team() {
    pthread_atfork(nullptr, nullptr, [] { team().forget_helpers(); });
  }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;
  Team(Team&&) = delete;
  Team& operator=(Team&&) = delete;
  ~Team() { resize(1); }

  // Forgets the waits seen so far: the next call shares out again.
  void calm() {
    const std::scoped_lock lock(mutex_);
    solo_calls_ = 0;
    solo_length_ = kLeastSolo;
    calm_calls_ = 0;
  }

  // Runs the shares with `threads` threads; false if the team is busy.
  bool run(int threads, int shares, const std::function<void(int)>& body) {
    const std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock() || shares > kMostShares) return false;
    if (static_cast<int>(helpers_.size()) + 1 != threads) resize(threads);
    if (solo_calls_ > 0) {
      --solo_calls_;
      const Inside inside;
      for (int share = 0; share < shares; ++share) body(share);
      return true;
    }
    const auto start = Clock::now();
    body_.store(&body, std::memory_order_relaxed);
    shares_.store(shares, std::memory_order_relaxed);
    for (auto& error : errors_) error = nullptr;
    done_.store(0, std::memory_order_relaxed);
    const unsigned call = calls_.load(std::memory_order_relaxed) + 1;
    claims_.store(std::uint64_t{call} << 32, std::memory_order_relaxed);
    // Sequentially consistent, with the helpers' side of it: a helper that
    // counts itself asleep after this load still sees the new count.
    calls_.fetch_add(1);
    if (sleepers_.load() > 0) calls_.notify_all();
    work(0, threads, call);
    for (int share = 0; share < shares; ++share) run_share(share, call, 0);
    wait_for_shares(shares, start);
    for (const auto& error : errors_) {
      if (error) std::rethrow_exception(error);
    }
    return true;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr long kLeastSolo = 256;
  static constexpr long kMostSolo = 1L << 16;

  // inside_share() is true while one lives on this thread.
  struct Inside {
    Inside() { inside_ = true; }
    ~Inside() { inside_ = false; }
    Inside(const Inside&) = delete;
    Inside& operator=(const Inside&) = delete;
    Inside(Inside&&) = delete;
    Inside& operator=(Inside&&) = delete;
  };

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  // Claims share `share` of call `call` (the call count's low 32 bits);
  // false where another thread has, or the call is over.
  bool claim(int share, unsigned call) {
    const std::uint64_t bit = std::uint64_t{1} << share;
    std::uint64_t claims = claims_.load(std::memory_order_relaxed);
    do {
      if (static_cast<unsigned>(claims >> 32) != call || (claims & bit) != 0) return false;
    } while (!claims_.compare_exchange_weak(claims, claims | bit, std::memory_order_acquire,
                                            std::memory_order_relaxed));
    return true;
  }

  // Runs the share if this thread claims it. The call cannot end before the
  // share is done, so the body read after the claim is the call's.
  void run_share(int share, unsigned call, int thread) {
    if (!claim(share, call)) return;
    try {
      const Inside inside;
      (*body_.load(std::memory_order_relaxed))(share);
    } catch (...) {
      auto& error = errors_[static_cast<std::size_t>(thread)];
      if (!error) error = std::current_exception();
    }
    done_.fetch_add(1, std::memory_order_release);
  }

  // The shares pinned to `thread`: thread, thread + threads, ...
  void work(int thread, int threads, unsigned call) {
    const int shares = shares_.load(std::memory_order_relaxed);
    for (int share = thread; share < shares; share += threads) run_share(share, call, thread);
  }

  // Waits for the helpers' claimed shares. A wait longer than kStall, and
  // longer than the caller's own shares took, is a helper taken off its
  // core mid-share: the next solo_length_ calls run on the caller alone,
  // and the length after that doubles, up to kMostSolo calls; after
  // kMostSolo calls without such a wait it is back to kLeastSolo.
  void wait_for_shares(int shares, Clock::time_point start) {
    constexpr auto kStall = std::chrono::microseconds(500);
    bool stalled = false;
    if (done_.load(std::memory_order_acquire) < shares) {
      const auto waiting = Clock::now();
      while (done_.load(std::memory_order_acquire) < shares) pause();
      const auto waited = Clock::now() - waiting;
      stalled = waited > kStall && waited > waiting - start;
    }
    if (stalled) {
      solo_calls_ = solo_length_;
      solo_length_ = std::min(2 * solo_length_, kMostSolo);
      calm_calls_ = 0;
    } else if (++calm_calls_ >= kMostSolo) {
      solo_length_ = kLeastSolo;
      calm_calls_ = 0;
    }
  }

  // `seen` is the call count when the helper was made: read here, the first
  // call could already have counted itself.
  void serve(int thread, int threads, unsigned seen) {
    // How long a helper spins for the next call before it sleeps: longer
    // than the gaps inside a training step, short enough not to hold a core
    // long after training ends.
    constexpr auto kSpin = std::chrono::microseconds(200);
    for (;;) {
      const auto start = Clock::now();
      unsigned now = seen;
      for (int spin = 0; (now = calls_.load(std::memory_order_acquire)) == seen; ++spin) {
        pause();
        if (spin % 256 == 255 && Clock::now() - start > kSpin) {
          sleepers_.fetch_add(1);
          calls_.wait(seen);
          sleepers_.fetch_sub(1);
        }
      }
      seen = now;
      if (stop_.load(std::memory_order_acquire)) return;
      work(thread, threads, now);
    }
  }

  // In a child process after fork() the helpers are gone (only the forking
  // thread is copied): let go of them, and start new ones on the next call.
  void forget_helpers() {
    for (auto& helper : helpers_) helper.detach();
    helpers_.clear();
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
      helpers_.emplace_back(
          [this, thread, threads, seen = calls_.load()] { serve(thread, threads, seen); });
    }
  }

  // A cache line the caller writes once per call and the helpers read...
  alignas(64) std::atomic<unsigned> calls_ = 0;
  std::atomic<const std::function<void(int)>*> body_ = nullptr;
  std::atomic<int> shares_ = 0;
  std::atomic<bool> stop_ = false;
  // ...the claims, in the call's high 32 bits and a bit per share, and the
  // shares done, which every thread writes...
  alignas(64) std::atomic<std::uint64_t> claims_ = 0;
  std::atomic<int> done_ = 0;
  // ...and the rest, written when helpers sleep, start or fail, or by the
  // caller alone.
  alignas(64) std::atomic<int> sleepers_ = 0;
  long solo_calls_ = 0;
  long solo_length_ = kLeastSolo;
  long calm_calls_ = 0;
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
  team().calm();
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
