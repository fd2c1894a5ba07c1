// cascadelens-cli figures end to end: the real binary renders the desktop app's figures headless
// (Qt offscreen), from an activation file and from the bundled model, and refuses bad requests.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace fs = std::filesystem;

namespace {

class CliFigures : public clitest::TempDirTest {
 protected:
  std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  fs::path synth() {
    const fs::path p = dir_ / "acts.npy";
    const auto r = run({"synth", p.string(), "--layers", "5", "--tokens", "40", "--dim", "16"});
    EXPECT_EQ(r.code, 0) << r.err;
    return p;
  }
};

TEST_F(CliFigures, EveryFigureFromAnActivationFileInEveryFormat) {
  const fs::path acts = synth(), out = dir_ / "figs";
  const auto r = run({"figures", acts.string(), "--out", out.string(), "--layer", "2", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* id : {"depth", "token-map", "jaccard", "profile", "gram-cost", "sweep", "gram", "cascade-step"}) {
    SCOPED_TRACE(id);
    const std::string svg = slurp(out / (std::string(id) + ".svg"));
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_NE(svg.find("<text"), std::string::npos);  // vector text
    const std::string pdf = slurp(out / (std::string(id) + ".pdf"));
    EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
    const std::string png = slurp(out / (std::string(id) + ".png"));
    ASSERT_GT(png.size(), 8u);
    EXPECT_EQ(png.substr(1, 3), "PNG");
    EXPECT_NE(r.out.find((out / (std::string(id) + ".svg")).string()), std::string::npos);  // listed on stdout
  }
}

TEST_F(CliFigures, SubsetFormatAndTheBundledModel) {
  const fs::path out = dir_ / "figs";
  const auto r = run({"figures", "--out", out.string(), "--figures", "jaccard,sweep", "--format", "pdf", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / "jaccard.pdf"));
  EXPECT_TRUE(fs::exists(out / "sweep.pdf"));
  EXPECT_FALSE(fs::exists(out / "jaccard.svg"));
  EXPECT_FALSE(fs::exists(out / "depth.pdf"));
}

TEST_F(CliFigures, FromASavedSessionSameFiguresAsTheModelRun) {
  // An author re-renders a year later from the file alone: byte-identical SVGs to the model run's.
  const fs::path s = dir_ / "s.h5", with = dir_ / "with.h5";
  ASSERT_EQ(run({"run", "--save", s.string(), "--quiet"}).code, 0);
  ASSERT_EQ(run({"run", "--save", with.string(), "--with-activations", "--quiet"}).code, 0);
  const auto from_model = run({"figures", "--out", (dir_ / "model").string(), "--format", "svg", "--quiet"});
  ASSERT_EQ(from_model.code, 0) << from_model.err;
  const auto from_file = run({"figures", s.string(), "--out", (dir_ / "file").string(), "--format", "svg", "--quiet"});
  ASSERT_EQ(from_file.code, 0) << from_file.err;
  EXPECT_NE(from_file.err.find("skipping gram (nothing to draw: the session was saved without activations)"), std::string::npos)
      << from_file.err;
  for (const char* id : {"jaccard", "profile", "gram-cost", "sweep", "token-map"}) {
    SCOPED_TRACE(id);
    // EXPECT_TRUE, not EXPECT_EQ: gtest's diff of two large strings is quadratic in memory.
    EXPECT_TRUE(slurp(dir_ / "model" / (std::string(id) + ".svg")) == slurp(dir_ / "file" / (std::string(id) + ".svg")));
  }
  EXPECT_FALSE(fs::exists(dir_ / "file" / "gram.svg"));
  const auto full = run({"figures", with.string(), "--out", (dir_ / "full").string(), "--format", "svg", "--quiet"});
  ASSERT_EQ(full.code, 0) << full.err;
  // The Gram view's colours come from the float16 X̂ (a shade may differ by one unit); the cascade
  // step is the stored one, identical.
  EXPECT_TRUE(fs::exists(dir_ / "full" / "gram.svg"));
  EXPECT_TRUE(slurp(dir_ / "model" / "cascade-step.svg") == slurp(dir_ / "full" / "cascade-step.svg"));
}

TEST_F(CliFigures, BadRequestsAreUsageOrInputErrors) {
  const fs::path acts = synth();
  auto r = run({"figures", acts.string(), "--out", (dir_ / "a").string(), "--figures", "nope"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown figure 'nope'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "a"));  // refused before any work
  r = run({"figures", acts.string(), "--out", (dir_ / "b").string(), "--format", "gif"});
  EXPECT_EQ(r.code, 2);
  r = run({"figures", acts.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos);
  r = run({"figures", (dir_ / "missing.npy").string(), "--out", (dir_ / "c").string()});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("missing.npy"), std::string::npos) << r.err;
  r = run({"figures", acts.string(), "--out", (dir_ / "d").string(), "--token", "999"});
  EXPECT_EQ(r.code, 2);
}

}  // namespace

namespace {

// Every <text> element's content of an SVG.
std::vector<std::string> svg_texts(const std::string& svg) {
  std::vector<std::string> out;
  for (size_t at = svg.find("<text"); at != std::string::npos; at = svg.find("<text", at + 1)) {
    const size_t open = svg.find('>', at), close = svg.find("</text>", at);
    if (open == std::string::npos || close == std::string::npos || close < open) break;
    out.push_back(svg.substr(open + 1, close - open - 1));
  }
  return out;
}

// Exported figures identify nothing of the author's machine: no local path in any text, and with
// --anonymous not even the model's name. No "what to click next" hint either.
TEST_F(CliFigures, ExportsCarryNoLocalPathAndAnonymousCarriesNoName) {
  for (const bool anonymous : {false, true}) {
    SCOPED_TRACE(anonymous ? "--anonymous" : "named");
    const fs::path out = dir_ / (anonymous ? "anon" : "named");
    std::vector<std::string> args = {"figures", "--out", out.string(), "--format", "svg", "--layer", "1", "--quiet"};
    if (anonymous) args.push_back("--anonymous");
    const auto r = run(args);
    ASSERT_EQ(r.code, 0) << r.err;
    std::string all;
    for (const auto& entry : fs::directory_iterator(out)) {
      for (const std::string& text : svg_texts(slurp(entry.path()))) {
        // An absolute path has a "/dir/" at the start of a word ("r_ind / T" is fine).
        EXPECT_FALSE(std::regex_search(text, std::regex(R"((^|[\s(])/[A-Za-z0-9_.-]+/)")))
            << entry.path().filename() << ": " << text;
        EXPECT_EQ(text.find(CASCADE_SOURCE_DIR), std::string::npos) << entry.path().filename() << ": " << text;
        EXPECT_EQ(text.find("next:"), std::string::npos) << entry.path().filename() << ": " << text;
        all += text + "\n";
      }
    }
    EXPECT_EQ(all.find("demo-model") != std::string::npos, !anonymous) << all;
  }
}

}  // namespace
