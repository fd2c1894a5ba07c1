#include "data/study/study_runner.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "core/baselines.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/names.h"
#include "core/version.h"
#include "data/session/session_file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cascade::data {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double or_nan(const std::optional<double>& v) { return v ? *v : kNaN; }

// The shortest text that reads back as the same double (0.3, not 0.29999999999999999).
std::string shortest(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

template <class T, class F>
std::string joined(const std::vector<T>& items, F&& text, const char* none) {
  if (items.empty()) return none;
  std::string out;
  for (const T& x : items) out += (out.empty() ? "" : ",") + text(x);
  return out;
}

std::string absolute_path(const std::string& p) {
  std::error_code ec;
  const fs::path abs = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? p : abs.generic_string();
}

}  // namespace

study::Params study_params(const StudyConfig& c, const LoadedModel& m, const std::string& tokenizer_id) {
  study::Params p;
  const CorpusOptions& o = c.corpus;
  const std::string kind = corpus_kind(o);
  p.set("corpus", absolute_path(o.path));
  p.set("corpus_kind", kind);
  p.set("field", kind == "jsonl" ? o.field : "");
  p.set("max_tokens", std::to_string(o.max_tokens));
  p.set("stride", std::to_string(o.stride));
  p.set("min_tokens", std::to_string(o.min_tokens));
  p.set("limit", std::to_string(o.limit));
  p.set("max_bytes", std::to_string(o.max_bytes));
  const ModelIdentity id = model_identity(m);
  for (const auto& t : names::model_texts()) p.set("model_" + std::string(t.name), id.*t.member);
  for (const auto& i : names::model_integers()) p.set("model_" + std::string(i.name), std::to_string(id.*i.member));
  p.set("tokenizer", tokenizer_id);
  p.set("device", to_string(m.device));
  p.set("dtype", to_string(m.dtype));
  p.set("taus", joined(c.taus, shortest, ""));
  p.set("rule", to_string(c.rule));
  p.set("nearest", to_string(c.nearest));
  p.set("quality", joined(c.quality, [](AttentionMode a) { return to_string(a); }, "none"));
  p.set("methods", joined(c.methods, [](Method x) { return to_string(x); }, "none"));
  p.set("budget", to_string(c.budget));
  p.set("seed", std::to_string(c.seed));
  p.set("resamples", std::to_string(c.resamples));
  p.set("shard", std::to_string(c.shard_index) + "/" + std::to_string(c.shard_count));
  p.set("sessions", c.sessions_dir.empty() ? "" : absolute_path(c.sessions_dir));
  p.set("app_version", version());
  return p;
}

study::Study empty_study(const StudyConfig& c, const study::Params& params, int64_t num_layers) {
  study::Study s;
  s.params = params;
  s.taus = c.taus;
  for (int64_t l = 0; l < num_layers; ++l) s.layers.push_back(l);
  for (AttentionMode a : c.quality) s.quality_modes.push_back(to_string(a));
  for (Method x : c.methods) s.methods.push_back(to_string(x));
  s.seed = c.seed;
  s.resamples = c.resamples;
  return s;
}

study::DocumentResult run_document(const LoadedModel& m, const StudyConfig& c, const study::Document& doc,
                                   const JobControl& control) {
  const auto start = std::chrono::steady_clock::now();
  if (c.taus.empty()) throw UsageError("the study's tau grid is empty");
  const JobControl quiet{nullptr, control.cancel};
  RunRequest req = request_for(m, doc.ids, "");
  req.source = doc.source + "@" + std::to_string(doc.offset);
  req.tau = c.taus[0];
  req.rule = c.rule;
  req.nearest = c.nearest;
  req.keep_capture = !c.quality.empty();
  const bool session = !c.sessions_dir.empty();
  if (session) {
    req.tokens = display_tokens(m, doc.ids);
    std::set<double> grid(c.taus.begin(), c.taus.end());
    req.sweep_taus.assign(grid.begin(), grid.end());
  }
  RunRecord rec = run_model(*m.model, req, quiet);

  study::DocumentResult out;
  out.document = doc;
  const int64_t L = rec.analysis.L();
  const auto taus = static_cast<int64_t>(c.taus.size());
  const auto T = static_cast<double>(doc.T);
  std::vector<Analysis> analyses{rec.analysis};
  for (int64_t t = 1; t < taus; ++t) {  // a session's sweep already holds them
    const double tau = c.taus[static_cast<size_t>(t)];
    const Analysis* stored = rec.stored(tau, c.rule);
    analyses.push_back(stored ? *stored : rec.analyzer->analyze(tau, c.rule, quiet));
  }

  // SPEC §4 per layer and τ.
  for (const std::string& name : study::layer_measure_names()) {
    study::Array a{"layers/" + name, {L, taus}, std::vector<double>(static_cast<size_t>(L * taus), kNaN)};
    const bool over_T = name.size() >= 7 && name.compare(name.size() - 7, 7, "_over_T") == 0;
    const names::LayerField& f = names::layer_field(over_T ? name.substr(0, name.size() - 7) : name);
    for (int64_t t = 0; t < taus; ++t)
      for (int64_t l = 0; l < L; ++l) {
        const double v = or_nan(f.get(analyses[static_cast<size_t>(t)].layers[static_cast<size_t>(l)]));
        a.values[static_cast<size_t>(l * taus + t)] = over_T ? v / T : v;
      }
    out.arrays.push_back(std::move(a));
  }
  for (const names::SummaryField* f : names::summary_fields()) {
    study::Array a{"summary/" + std::string(f->name), {taus}, {}};
    for (const Analysis& an : analyses) a.values.push_back(or_nan(f->get(an.summary)));
    out.arrays.push_back(std::move(a));
  }

  // SPEC §5: each ADA mode at each τ against the exact pass.
  std::optional<AdaQuality> headline;
  if (!c.quality.empty()) {
    const at::Tensor& exact = rec.capture->logits;
    const auto M = static_cast<int64_t>(c.quality.size());
    study::Array ppl_exact{"quality/ppl_exact", {}, {perplexity(exact, doc.ids)}};
    std::vector<study::Array> q;
    for (const std::string& name : study::quality_measure_names())
      q.push_back({"quality/" + name, {M, taus}, std::vector<double>(static_cast<size_t>(M * taus), kNaN)});
    for (int64_t k = 0; k < M; ++k)
      for (int64_t t = 0; t < taus; ++t) {
        control.check();
        const AttentionMode mode = c.quality[static_cast<size_t>(k)];
        const AdaQuality aq = ada_quality(*m.model, doc.ids, mode, c.taus[static_cast<size_t>(t)], c.rule, c.nearest, exact, quiet);
        const auto i = static_cast<size_t>(k * taus + t);
        q[0].values[i] = aq.ppl_ada;
        q[1].values[i] = aq.ppl_ada - aq.ppl_exact;
        q[2].values[i] = aq.mean_kl;
        q[3].values[i] = mean_attention_error(aq);
        if (t == 0 && (!headline || mode == AttentionMode::AdaCascade)) {
          headline = aq;
          rec.quality_mode = mode;
        }
      }
    out.arrays.push_back(std::move(ppl_exact));
    for (auto& a : q) out.arrays.push_back(std::move(a));
  }
  rec.capture.reset();

  // SPEC §7 at the first τ.
  if (!c.methods.empty()) {
    CompareRequest creq;
    creq.methods = c.methods;
    creq.budget = c.budget;
    creq.quality = !c.quality.empty();
    creq.seed = c.seed;
    creq.document = study::id_value(doc.id);
    const Comparison cmp = compare_methods(rec, rec.analysis, m.model.get(), creq, quiet);
    const auto K = static_cast<int64_t>(c.methods.size());
    const std::vector<std::optional<double> MethodLayer::*> axes{nullptr, &MethodLayer::coverage, &MethodLayer::covered,
                                                                &MethodLayer::attn_err};
    for (size_t x = 0; x < axes.size(); ++x) {
      study::Array a{"methods/" + study::method_layer_axis_names()[x], {K, L},
                     std::vector<double>(static_cast<size_t>(K * L), kNaN)};
      for (int64_t k = 0; k < K; ++k)
        if (const MethodResult* r = cmp.find(c.methods[static_cast<size_t>(k)]))
          for (size_t l = 0; l < r->layers.size() && static_cast<int64_t>(l) < L; ++l)
            a.values[static_cast<size_t>(k * L) + l] =
                axes[x] ? or_nan(r->layers[l].*axes[x]) : static_cast<double>(r->layers[l].r);
      out.arrays.push_back(std::move(a));
    }
    const std::vector<std::optional<double> MethodResult::*> quality{&MethodResult::ppl, &MethodResult::delta_ppl,
                                                                    &MethodResult::kl};
    for (size_t x = 0; x < quality.size(); ++x) {
      study::Array a{"methods/" + study::method_quality_names()[x], {K}, std::vector<double>(static_cast<size_t>(K), kNaN)};
      for (int64_t k = 0; k < K; ++k)
        if (const MethodResult* r = cmp.find(c.methods[static_cast<size_t>(k)]))
          a.values[static_cast<size_t>(k)] = or_nan(r->*quality[x]);
      out.arrays.push_back(std::move(a));
    }
    if (session) rec.comparisons.push_back(cmp);
  }
  if (session) {
    rec.quality = headline;
    rec.text = m.tokenizer ? m.tokenizer->decode(doc.ids) : "";
    fs::create_directories(c.sessions_dir);
    write_session((fs::path(c.sessions_dir) / (doc.id + ".h5")).string(), rec, {true}, quiet);
  }
  out.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

// ---- the journal ----

namespace {

json number(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

json params_json(const study::Params& p) {
  json out = json::array();
  for (const auto& [n, v] : p.items) out.push_back({n, v});
  return out;
}

study::Params params_from(const json& j) {
  study::Params p;
  for (const auto& item : j) p.set(item.at(0).get<std::string>(), item.at(1).get<std::string>());
  return p;
}

}  // namespace

std::string result_json(const study::DocumentResult& r) {
  const study::Document& d = r.document;
  json arrays = json::array();
  for (const study::Array& a : r.arrays) {
    json values = json::array();
    for (double v : a.values) values.push_back(number(v));
    arrays.push_back({{"name", a.name}, {"shape", a.shape}, {"values", std::move(values)}});
  }
  return json{{"document",
               {{"id", d.id}, {"source", d.source}, {"offset", d.offset}, {"T", d.T}, {"index", d.index}, {"ids", d.ids},
                {"elapsed_ms", number(r.elapsed_ms)}, {"arrays", std::move(arrays)}}}}
      .dump();
}

study::DocumentResult result_from_json(const std::string& line) {
  const json j = json::parse(line).at("document");
  study::DocumentResult r;
  r.document.id = j.at("id").get<std::string>();
  r.document.source = j.at("source").get<std::string>();
  r.document.offset = j.at("offset").get<int64_t>();
  r.document.T = j.at("T").get<int64_t>();
  r.document.index = j.at("index").get<int64_t>();
  r.document.ids = j.at("ids").get<std::vector<int64_t>>();
  r.elapsed_ms = j.at("elapsed_ms").is_null() ? kNaN : j.at("elapsed_ms").get<double>();
  for (const json& a : j.at("arrays")) {
    study::Array arr{a.at("name").get<std::string>(), a.at("shape").get<std::vector<int64_t>>(), {}};
    for (const json& v : a.at("values")) arr.values.push_back(v.is_null() ? kNaN : v.get<double>());
    if (static_cast<int64_t>(arr.values.size()) != arr.per_document())
      throw InputError("journal", "array " + arr.name + " of document " + r.document.id + " has the wrong length");
    r.arrays.push_back(std::move(arr));
  }
  return r;
}

StudyJournal::StudyJournal(const std::string& path, const study::Params& params) : path_(path) {
  std::error_code ec;
  const bool exists = fs::exists(path, ec) && fs::file_size(path, ec) > 0;
  if (exists) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    bool header = false;
    std::set<std::string> done;
    std::vector<std::pair<std::string, int>> dealt;
    while (std::getline(in, line)) {
      json j;
      try {
        j = json::parse(line);
      } catch (const json::exception&) {
        continue;  // a torn line: the document it held was not committed
      }
      if (!header) {
        if (!j.contains("journal")) throw InputError(path, "not a Cascade Lens study journal");
        const std::string diff = params_from(j.at("params")).difference(params);
        if (!diff.empty())
          throw UsageError(path + " belongs to a study with other parameters (" + diff +
                           "): give another --out, or remove the study file and its journal to start again");
        header = true;
        continue;
      }
      if (j.contains("document")) {
        committed_.push_back(result_from_json(line));
        done.insert(committed_.back().document.id);
      } else if (j.contains("failed")) {
        failed_.push_back({j["failed"].at("source").get<std::string>(), j["failed"].at("why").get<std::string>()});
        done.insert(j["failed"].at("id").get<std::string>());
        failed_ids_.insert(j["failed"].at("id").get<std::string>());
      } else if (j.contains("dealt")) {
        dealt.emplace_back(j["dealt"].get<std::string>(), j.at("rank").get<int>());
      }
    }
    for (const auto& [id, rank] : dealt)
      if (!done.count(id)) in_flight_.emplace_back(id, rank);
    if (!header) throw InputError(path, "the journal has no header line");
  }
  file_ = std::fopen(path.c_str(), "ab");
  if (!file_) throw InputError(path, "cannot be written");
  if (!exists) write_line(json{{"journal", "cascade-lens-study"}, {"params", params_json(params)}}.dump());
}

StudyJournal::~StudyJournal() {
  if (file_) std::fclose(file_);
}

void StudyJournal::write_line(const std::string& line) {
  // A line is committed once it is on the disk: a kill after this loses nothing written here.
  if (std::fputs((line + "\n").c_str(), file_) < 0 || std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0)
    throw InputError(path_, "cannot be written (disk full?)");
}

void StudyJournal::commit(const study::DocumentResult& result) {
  write_line(result_json(result));
  committed_.push_back(result);
}

study::Failure document_failure(const study::Document& d, const std::string& why) {
  return {d.source + "@" + std::to_string(d.offset), why};
}

void StudyJournal::commit_failure(const study::Document& d, const std::string& why) {
  const study::Failure f = document_failure(d, why);
  write_line(json{{"failed", {{"id", d.id}, {"source", f.source}, {"why", why}}}}.dump());
  failed_.push_back(f);
  failed_ids_.insert(d.id);
}

void StudyJournal::dealt(const std::string& id, int rank) { write_line(json{{"dealt", id}, {"rank", rank}}.dump()); }

void StudyJournal::remove() {
  if (file_) std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace cascade::data
