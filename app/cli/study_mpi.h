#pragma once
// `mpirun -np N cascadelens-cli study …` (built with CASCADE_MPI=ON, Open MPI): rank 0 deals the
// documents one at a time to whichever rank asks (rank 0 itself runs documents on a second thread),
// so long and short documents balance; results come back to rank 0, which commits them and writes
// the file. Without MPI (or not under mpirun) the world is one process and these do nothing.
#include <functional>
#include <string>
#include <vector>

#include "core/study.h"

namespace cascade::cli {

struct StudyWork {
  std::function<study::DocumentResult(const study::Document&)> run;  // any rank; throws Error for a failed document
  // Rank 0 only:
  std::function<void(const study::DocumentResult&)> commit;
  std::function<void(const study::Document&, const std::string&)> fail;
  std::function<void(const std::string& id, int rank)> dealt;
  std::function<void(int64_t done, int64_t total)> progress;
};

// Starts MPI when this process was launched by mpirun (Open MPI's or a PMI launcher's environment),
// returns the world size (1 otherwise). UsageError when launched by mpirun with more than one rank
// but built without MPI.
int mpi_start();
int mpi_rank();
void mpi_stop();  // MPI_Finalize when mpi_start started it

// Rank 0: deals `todo` until every document is committed or failed. Throws Cancelled on Ctrl-C
// (what was committed stays committed).
void mpi_deal(const std::vector<study::Document>& todo, const StudyWork& work, const std::function<bool()>& cancelled);
// Any other rank: runs what rank 0 sends until it says stop.
void mpi_work(const StudyWork& work);

}  // namespace cascade::cli
