#include "cli/study_mpi.h"

#include <cstdlib>
#include <string>

#include "core/errors.h"

#ifdef CASCADE_MPI
#include <mpi.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "data/study/study_runner.h"
#endif

namespace cascade::cli {

namespace {

// The world size the launcher announced (Open MPI, or any PMI launcher such as srun), 1 without one.
int launcher_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(var)) return std::max(1, std::atoi(v));
  return 1;
}

}  // namespace

#ifndef CASCADE_MPI

int mpi_start() {
  if (launcher_size() > 1)
    throw UsageError("this cascadelens-cli was built without MPI: configure with -DCASCADE_MPI=ON (Open MPI) to run under mpirun");
  return 1;
}
int mpi_rank() { return 0; }
void mpi_stop() {}
void mpi_deal(const std::vector<study::Document>&, const StudyWork&, const std::function<bool()>&) {
  throw UsageError("built without MPI");
}
void mpi_work(const StudyWork&) { throw UsageError("built without MPI"); }

#else

namespace {

bool started = false;
int rank = 0;

enum Tag : int { kReady = 1, kWork = 2, kStop = 3, kResult = 4, kFailed = 5 };

void send(int to, Tag tag, const std::string& text) {
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

std::string receive(const MPI_Status& status) {
  int n = 0;
  MPI_Get_count(&status, MPI_CHAR, &n);
  std::string text(static_cast<size_t>(n), '\0');
  MPI_Recv(text.data(), n, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return text;
}

std::string document_text(const study::Document& d) {
  study::DocumentResult r;
  r.document = d;
  return data::result_json(r);
}

}  // namespace

int mpi_start() {
  if (launcher_size() <= 1) return 1;
  int provided = 0;
  // Only the main thread calls MPI; rank 0 runs its own documents on a second thread without MPI.
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  started = true;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

int mpi_rank() { return rank; }

void mpi_stop() {
  if (started) MPI_Finalize();
  started = false;
}

void mpi_deal(const std::vector<study::Document>& todo, const StudyWork& work, const std::function<bool()>& cancelled) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  size_t next = 0;
  std::map<int, study::Document> outstanding;  // rank → the document it works on
  int stopped = 0;

  // Rank 0's own share, one document at a time on a thread.
  std::thread local;
  std::mutex mutex;
  bool local_busy = false, local_done = false;
  std::optional<study::DocumentResult> local_result;
  std::string local_error;
  study::Document local_doc;
  bool local_cancelled = false;

  const auto hand_out = [&](int to) {
    if (next < todo.size() && !cancelled()) {
      const study::Document& d = todo[next++];
      work.dealt(d.id, to);
      outstanding[to] = d;
      send(to, kWork, document_text(d));
    } else {
      send(to, kStop, "");
      ++stopped;
    }
  };
  for (;;) {
    bool idle = true;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (local_done) {
        local.join();
        local_done = local_busy = false;
        idle = false;
        if (local_result) work.commit(*local_result);
        else if (!local_cancelled) work.fail(local_doc, local_error);
      }
    }
    if (!local_busy && next < todo.size() && !cancelled()) {
      local_doc = todo[next++];
      work.dealt(local_doc.id, 0);
      local_busy = true;
      local_result.reset();
      local_cancelled = false;
      local = std::thread([&, d = local_doc] {
        std::optional<study::DocumentResult> r;
        std::string error;
        bool was_cancelled = false;
        try {
          r = work.run(d);
        } catch (const Cancelled&) {
          was_cancelled = true;
        } catch (const std::exception& e) {
          error = e.what();
        }
        std::lock_guard<std::mutex> lock(mutex);
        local_result = std::move(r);
        local_error = error;
        local_cancelled = was_cancelled;
        local_done = true;
      });
      idle = false;
    }
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status);
    if (flag) {
      idle = false;
      const std::string text = receive(status);
      const int from = status.MPI_SOURCE;
      if (status.MPI_TAG == kResult) {
        work.commit(data::result_from_json(text));
        outstanding.erase(from);
      } else if (status.MPI_TAG == kFailed) {
        work.fail(outstanding.at(from), text);
        outstanding.erase(from);
      }
      hand_out(from);  // kReady, or the next document after a result
    }
    if (stopped == size - 1 && !local_busy && (next >= todo.size() || cancelled())) break;
    if (idle) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (cancelled()) throw Cancelled();
}

void mpi_work(const StudyWork& work) {
  send(0, kReady, "");
  for (;;) {
    MPI_Status status;
    MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &status);
    const std::string text = receive(status);
    if (status.MPI_TAG == kStop) return;
    const study::Document d = data::result_from_json(text).document;
    try {
      send(0, kResult, data::result_json(work.run(d)));
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      send(0, kFailed, e.what());
    }
  }
}

#endif

}  // namespace cascade::cli
