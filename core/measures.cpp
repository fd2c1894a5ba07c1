#include "core/measures.h"

#include "core/sets.h"

namespace cascade {

Analysis measure(int64_t T, int64_t d, double tau, Rule rule, const std::vector<int64_t>& layer_ids,
                 const std::vector<TokenSet>& independent, const std::vector<CascadeTrace>& steps) {
  const size_t L = independent.size();
  Analysis a;
  a.T = T;
  a.d = d;
  a.tau = tau;
  a.theta = theta_of_tau(tau);
  a.rule = rule;
  a.layers.resize(L);
  const int64_t full_gram = T * T;
  for (size_t i = 0; i < L; ++i) {
    LayerMeasures& m = a.layers[i];
    m.layer = layer_ids.at(i);
    m.reps_ind = independent[i];
    m.reps_casc = i == 0 ? independent[0] : steps.at(i).result;
    m.r_ind = static_cast<int64_t>(m.reps_ind.size());
    m.r_casc = static_cast<int64_t>(m.reps_casc.size());
    m.missed = set_difference(m.reps_ind, m.reps_casc);
    m.extra = set_difference(m.reps_casc, m.reps_ind);
    m.casc_fidelity = jaccard(m.reps_casc, m.reps_ind);
    if (i + 1 < L) m.depth_jaccard = jaccard(independent[i], independent[i + 1]);
    m.gram_entries_ind = full_gram;
    if (i == 0) {
      m.gram_entries_casc = full_gram;
    } else {
      const CascadeTrace& step = steps[i];
      m.added = step.added;
      m.removed = step.removed;
      m.adds = static_cast<int64_t>(step.added.size());
      m.removes = static_cast<int64_t>(step.removed.size());
      const auto inherited = static_cast<double>(step.inherited.size());
      if (inherited > 0) m.turnover = static_cast<double>(m.adds + m.removes) / inherited;
      m.gram_entries_casc = step.gram_entries;
    }
    m.gram_macs_ind = m.gram_entries_ind * d;
    m.gram_macs_casc = m.gram_entries_casc * d;
    m.compression_ind = m.r_ind > 0 ? static_cast<double>(T) / m.r_ind : 0.0;
    m.compression_casc = m.r_casc > 0 ? static_cast<double>(T) / m.r_casc : 0.0;
  }

  a.jaccard_matrix.assign(L, std::vector<double>(L, 1.0));
  for (size_t i = 0; i < L; ++i)
    for (size_t j = i + 1; j < L; ++j)
      a.jaccard_matrix[i][j] = a.jaccard_matrix[j][i] = jaccard(independent[i], independent[j]);

  Summary& s = a.summary;
  double depth_sum = 0, turnover_sum = 0, fidelity_sum = 0, r_ind_sum = 0, r_casc_sum = 0;
  int64_t depth_n = 0, turnover_n = 0;
  for (const LayerMeasures& m : a.layers) {
    if (m.depth_jaccard) depth_sum += *m.depth_jaccard, ++depth_n;
    if (m.turnover) turnover_sum += *m.turnover, ++turnover_n;
    fidelity_sum += m.casc_fidelity;
    r_ind_sum += static_cast<double>(m.r_ind);
    r_casc_sum += static_cast<double>(m.r_casc);
    s.gram_entries_ind += m.gram_entries_ind;
    s.gram_entries_casc += m.gram_entries_casc;
    s.total_missed += static_cast<int64_t>(m.missed.size());
    s.total_extra += static_cast<int64_t>(m.extra.size());
    s.total_adds += m.adds;
    s.total_removes += m.removes;
  }
  if (L == 0) return a;
  if (depth_n) s.mean_depth_jaccard = depth_sum / static_cast<double>(depth_n);
  if (turnover_n) s.mean_turnover = turnover_sum / static_cast<double>(turnover_n);
  s.mean_casc_fidelity = fidelity_sum / static_cast<double>(L);
  s.mean_r_ind = r_ind_sum / static_cast<double>(L);
  s.mean_r_casc = r_casc_sum / static_cast<double>(L);
  s.mean_compression_ind = s.mean_r_ind > 0 ? static_cast<double>(T) / s.mean_r_ind : 0.0;
  s.mean_compression_casc = s.mean_r_casc > 0 ? static_cast<double>(T) / s.mean_r_casc : 0.0;
  s.gram_savings = s.gram_entries_ind > 0
                       ? 1.0 - static_cast<double>(s.gram_entries_casc) / static_cast<double>(s.gram_entries_ind)
                       : 0.0;
  return a;
}

}  // namespace cascade
