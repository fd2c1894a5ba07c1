// cascadelens-cli figures end to end: the real binary renders the desktop app's figures headless
// (Qt offscreen), from an activation file and from the bundled model, and refuses bad requests.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
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
  // Nothing compared on this run: the methods figures are skipped, with the way to get them.
  for (const char* id : {"methods", "tradeoff"})
    EXPECT_NE(r.err.find(std::string("skipping ") + id + " (nothing to draw: no comparison computed — run `cascadelens-cli compare` or open the Methods dock)"),
              std::string::npos) << r.err;
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


namespace {

// An independent reader of the exported SVG (not Qt's): each <text> with its font size and an
// estimate of its ink box on the page, the <g transform="matrix(...)"> groups applied.
struct PlacedText {
  std::string text;
  double size = 0;                       // points, the transform's scale applied
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0; // the estimated box on the page
};

struct Svg {
  double width_pt = 0, view_w = 0, view_h = 0;
  std::vector<PlacedText> texts;
};

std::string attr(const std::string& tag, const std::string& name) {
  const std::regex re("\\s" + name + "=\"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(tag, m, re) ? m[1].str() : std::string();
}

// DejaVu Sans's advances (em, from its hmtx table) for ASCII; other characters 0.65 em. An
// estimate: the check allows a point and a half beyond the page.
double advance_em(char32_t c) {
  static const double lw[] = {.613, .635, .550, .635, .615, .352, .635, .634, .278, .278, .579, .278, .974,
                              .634, .612, .635, .635, .411, .521, .392, .634, .592, .818, .592, .592, .525};
  static const double uw[] = {.684, .686, .698, .770, .632, .575, .775, .752, .295, .295, .656, .557, .863,
                              .748, .787, .603, .787, .695, .635, .611, .732, .684, .989, .685, .611, .685};
  if (c >= 'a' && c <= 'z') return lw[c - 'a'];
  if (c >= 'A' && c <= 'Z') return uw[c - 'A'];
  if (c >= '0' && c <= '9') return 0.636;
  switch (c) {
    case ' ': case '.': case ',': return 0.318;
    case '(': case ')': return 0.390;
    case '/': case ':': case ';': case '|': return 0.337;
    case '-': return 0.361;
    case '=': case '+': case '<': case '>': return 0.838;
    case '%': return 0.950;
    case '_': return 0.500;
    case 0xA0: case 0xB7: return 0.318;   // no-break space, middle dot
    case 0x2013: return 0.500;            // en dash
    case 0x2212: case 0x2192: return 0.838;  // minus, arrow
    default: return c < 0x80 ? 0.6 : 0.65;
  }
}

std::string unescape(std::string s) {
  for (auto [from, to] : {std::pair{"&amp;", "&"}, std::pair{"&lt;", "<"}, std::pair{"&gt;", ">"},
                          std::pair{"&quot;", "\""}, std::pair{"&#39;", "'"}})
    for (size_t at; (at = s.find(from)) != std::string::npos;) s.replace(at, std::string(from).size(), to);
  return s;
}

Svg read_svg(const std::string& svg) {
  Svg out;
  const size_t root = svg.find("<svg");
  const std::string root_tag = svg.substr(root, svg.find('>', root) - root);
  const std::string w = attr(root_tag, "width");
  out.width_pt = std::stod(w) * (w.find("mm") != std::string::npos ? 72.0 / 25.4 : 1.0);
  std::stringstream vb(attr(root_tag, "viewBox"));
  double vx = 0, vy = 0;
  vb >> vx >> vy >> out.view_w >> out.view_h;
  using M = std::array<double, 6>;  // a b c d e f: x' = a x + c y + e, y' = b x + d y + f
  std::vector<M> stack = {M{1, 0, 0, 1, 0, 0}};
  auto compose = [](const M& p, const M& q) {  // p after q
    return M{p[0] * q[0] + p[2] * q[1], p[1] * q[0] + p[3] * q[1], p[0] * q[2] + p[2] * q[3],
             p[1] * q[2] + p[3] * q[3], p[0] * q[4] + p[2] * q[5] + p[4], p[1] * q[4] + p[3] * q[5] + p[5]};
  };
  const std::regex tag_re("<(/?)(g|text)\\b([^>]*)>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag_re); it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    if (m[2] == "g") {
      if (m[1] == "/") {
        if (stack.size() > 1) stack.pop_back();
        continue;
      }
      M t{1, 0, 0, 1, 0, 0};
      const std::string tr = attr(m[3].str(), "transform");
      if (tr.rfind("matrix(", 0) == 0) {
        std::string nums = tr.substr(7);
        std::replace(nums.begin(), nums.end(), ',', ' ');
        std::stringstream ss(nums);
        for (double& v : t) ss >> v;
      }
      stack.push_back(compose(stack.back(), t));
      if (!m[3].str().empty() && m[3].str().back() == '/') stack.pop_back();
      continue;
    }
    if (m[1] == "/") continue;
    const size_t open = static_cast<size_t>(m.position(0) + m.length(0));
    const size_t close = svg.find("</text>", open);
    PlacedText t;
    t.text = unescape(svg.substr(open, close - open));
    const std::string tag = m[3].str();
    const double size = std::stod(attr(tag, "font-size"));
    const double x = std::stod(attr(tag, "x")), y = std::stod(attr(tag, "y"));
    double em = 0;
    for (size_t k = 0; k < t.text.size();) {  // UTF-8 to code points
      const unsigned char c = static_cast<unsigned char>(t.text[k]);
      const int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      char32_t cp = n == 1 ? c : c & (0x3F >> (n - 1));
      for (int b = 1; b < n && k + b < t.text.size(); ++b) cp = (cp << 6) | (static_cast<unsigned char>(t.text[k + b]) & 0x3F);
      em += advance_em(cp);
      k += n;
    }
    if (attr(tag, "font-weight") == "700") em *= 1.1;  // DejaVu Sans Bold is about a tenth wider
    const M& T = stack.back();
    const double scale = std::sqrt(std::abs(T[0] * T[3] - T[1] * T[2]));
    t.size = size * scale;
    // The box in text space: from the baseline's start, ascent above and descent below.
    const double corners[4][2] = {{x, y - size * 0.76}, {x + em * size, y - size * 0.76}, {x, y + size * 0.24},
                                  {x + em * size, y + size * 0.24}};
    t.x0 = t.y0 = 1e18;
    t.x1 = t.y1 = -1e18;
    for (const auto& c : corners) {
      const double px = T[0] * c[0] + T[2] * c[1] + T[4], py = T[1] * c[0] + T[3] * c[1] + T[5];
      t.x0 = std::min(t.x0, px), t.x1 = std::max(t.x1, px), t.y0 = std::min(t.y0, py), t.y1 = std::max(t.y1, py);
    }
    if (!t.text.empty() && t.text.find_first_not_of(" \xC2\xA0") != std::string::npos) out.texts.push_back(t);
  }
  return out;
}

const char* const kFigureIds[] = {"depth", "token-map", "jaccard", "profile", "gram-cost", "sweep", "gram", "cascade-step"};

// The issue's check: every figure 240 pt wide with 8 pt type is legible as printed — the page is
// 240 pt, no text under 8 pt, none past the page's edges, no absolute path anywhere.
TEST_F(CliFigures, ASingleColumnAt240PointsWith8PointTypeKeepsEveryTextOnThePage) {
  const fs::path out = dir_ / "column";
  const auto r = run({"figures", "--width", "240", "--font-size", "8", "--format", "svg", "--layer", "1", "--out",
                      out.string(), "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* id : kFigureIds) {
    SCOPED_TRACE(id);
    const Svg svg = read_svg(slurp(out / (std::string(id) + ".svg")));
    EXPECT_NEAR(svg.width_pt, 240.0, 0.01);
    EXPECT_NEAR(svg.view_w, 240.0, 0.01);
    ASSERT_GT(svg.view_h, 36.0);
    EXPECT_GT(svg.texts.size(), 5u);
    const double slack = 1.5;  // points: the width estimate's error
    for (const PlacedText& t : svg.texts) {
      EXPECT_GE(t.size, 8.0 - 1e-6) << t.text;
      EXPECT_GE(t.x0, -slack) << t.text;
      EXPECT_LE(t.x1, svg.view_w + slack) << t.text << " ends at " << t.x1;
      EXPECT_GE(t.y0, -slack) << t.text;
      EXPECT_LE(t.y1, svg.view_h + slack) << t.text << " ends at " << t.y1;
      EXPECT_FALSE(std::regex_search(t.text, std::regex(R"((^|[\s(])/[A-Za-z0-9_.-]+/)"))) << t.text;
    }
  }
}

std::vector<std::string> texts_of(const fs::path& svg_file) {
  std::ifstream in(svg_file, std::ios::binary);
  const Svg svg = read_svg(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  std::vector<std::string> out;
  for (const auto& t : svg.texts) out.push_back(t.text);
  return out;
}

bool has(const std::vector<std::string>& texts, const std::string& s) {
  return std::find(texts.begin(), texts.end(), s) != texts.end();
}
bool any_contains(const std::vector<std::string>& texts, const std::string& s) {
  return std::any_of(texts.begin(), texts.end(), [&](const std::string& t) { return t.find(s) != std::string::npos; });
}

TEST_F(CliFigures, LayerAndTokenWindowsTitleAndHighlightOptions) {
  auto figs = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> args = {"figures", "--format", "svg", "--layer", "1", "--out", (dir_ / name).string(),
                                     "--figures", "jaccard,token-map,profile", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return dir_ / name;
  };
  const fs::path all = figs("all", {}), window = figs("window", {"--layers", "2:5", "--tokens", "100:"});
  // The Jaccard matrix's rows and columns are the window's layers, labelled with their own indices.
  const auto j_all = texts_of(all / "jaccard.svg"), j_win = texts_of(window / "jaccard.svg");
  for (const char* l : {"0", "1", "2", "3", "4", "5"}) EXPECT_TRUE(has(j_all, l)) << l;
  for (const char* l : {"2", "3", "4"}) EXPECT_TRUE(has(j_win, l)) << l;
  for (const char* l : {"0", "1", "5"}) EXPECT_FALSE(has(j_win, l)) << l;
  // The token map's x axis starts at token 100 (its ticks: 100, 105, ...), no 0 or 40 there.
  const auto m_all = texts_of(all / "token-map.svg"), m_win = texts_of(window / "token-map.svg");
  EXPECT_TRUE(has(m_all, "40"));
  EXPECT_TRUE(has(m_win, "100"));
  EXPECT_TRUE(has(m_win, "105"));
  EXPECT_FALSE(has(m_win, "40"));
  EXPECT_FALSE(has(m_win, "0"));  // neither token 0 nor layer 0 (the window starts at layer 2)
  // --no-title: no title line; the default has one.
  EXPECT_TRUE(any_contains(m_all, "Token status by layer"));
  const fs::path bare = figs("bare", {"--no-title", "--no-highlight"});
  EXPECT_FALSE(any_contains(texts_of(bare / "token-map.svg"), "Token status by layer"));
  EXPECT_FALSE(any_contains(texts_of(bare / "profile.svg"), "Representatives per layer"));
  // --no-highlight: the selected layer's dotted vermillion marker is gone from the profile.
  const std::string marker = "stroke=\"#d55e00\"";
  EXPECT_NE(slurp(all / "profile.svg").find(marker), std::string::npos);
  EXPECT_EQ(slurp(bare / "profile.svg").find(marker), std::string::npos);
}

// A preset is its width and type size: the same files as those options; an explicit option wins.
TEST_F(CliFigures, PresetsAreTheirWidthAndTypeSize) {
  auto figs = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> args = {"figures", "--format", "svg", "--layer", "1", "--out", (dir_ / name).string(),
                                     "--figures", "token-map,profile", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return dir_ / name;
  };
  const fs::path preset = figs("preset", {"--preset", "single-column"}),
                 options = figs("options", {"--width", "240", "--font-size", "8"});
  for (const char* f : {"token-map.svg", "profile.svg"}) EXPECT_EQ(slurp(preset / f), slurp(options / f)) << f;
  const fs::path slide = figs("slide", {"--preset", "slide", "--width", "600"});
  for (const char* f : {"token-map.svg", "profile.svg"}) {
    SCOPED_TRACE(f);
    const Svg svg = read_svg(slurp(slide / f));
    EXPECT_NEAR(svg.width_pt, 600.0, 0.01);
    double smallest = 1e9;
    for (const PlacedText& t : svg.texts) smallest = std::min(smallest, t.size);
    EXPECT_GE(smallest, 16.0 - 1e-6);
    EXPECT_LT(smallest, 20.0);  // the floor, not some other size
  }
}

TEST_F(CliFigures, BadLayoutOptionsAreUsageErrorsBeforeAnyWork) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--layers", "5:2"}, "--layers 5:2 is outside"},
      {{"--layers", "0:99"}, "--layers 0:99 is outside"},
      {{"--tokens", "a:b"}, "--tokens wants A:B with whole numbers"},
      {{"--font-size", "100"}, "--font-size must be between 4 and 72"},
      {{"--width", "10"}, "--width must be between 36 and 10000"},
      {{"--height", "20000"}, "--height must be between 36 and 10000"},
      {{"--preset", "poster"}, "unknown --preset 'poster' (single-column, double-column, slide)"},
  };
  int k = 0;
  for (const Case& c : cases) {
    const fs::path out = dir_ / ("bad" + std::to_string(k++));
    std::vector<std::string> args = {"figures", "--out", out.string(), "--format", "svg"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto r = run(args);
    EXPECT_EQ(r.code, 2) << c.args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.args[0];
  }
}

}  // namespace

// A study file gives the study window's three figures, in every format, at a τ of its grid; the run
// figures' ids and a τ outside the grid are usage errors.
TEST_F(CliFigures, AStudyFileGivesTheStudyFigures) {
  const std::string study = (dir_ / "s.h5").string();
  auto r = run({"study", "--limit", "3", "--max-tokens", "64", "--taus", "0.3,0.5", "--methods", "cascade,random,h2o",
                "--resamples", "200", "--quiet", "--out", study});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"figures", study, "--out", (dir_ / "figs").string(), "--tau", "0.5", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* id : {"study-bands", "study-histogram", "study-tradeoff"})
    for (const char* ext : {"svg", "pdf", "png"}) {
      const fs::path f = dir_ / "figs" / (std::string(id) + "." + ext);
      ASSERT_TRUE(fs::exists(f)) << f;
      EXPECT_GT(fs::file_size(f), 1000u) << f;
    }
  std::ifstream svg(dir_ / "figs" / "study-histogram.svg");
  const std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("0.50"), std::string::npos) << "the title names the tau drawn";
  EXPECT_EQ(run({"figures", study, "--out", (dir_ / "x").string(), "--figures", "depth"}).code, 2);
  EXPECT_EQ(run({"figures", study, "--out", (dir_ / "x").string(), "--tau", "0.4"}).code, 2);
}
