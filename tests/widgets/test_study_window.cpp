// SPEC §8 in the GUI: the study figures draw aggregate()'s numbers (the bands' mean and CI), the
// document table sorts numbers as numbers, every figure exports to PNG/SVG/PDF, two studies overlay
// with both named in the legend, and a double-click opens a document's session or asks for its run.
// With CASCADE_SHOTS_DIR set the figures and the window are saved there to be looked at.
#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>

#include "core/study.h"
#include "gui/main_window.h"
#include "gui/study_window.h"
#include "widgets/fixtures.h"
#include "widgets/study_figures.h"

namespace cascade::widgets {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 20 documents, 3 layers, 2 τ, 3 methods, with values known per document: T = 8 + d (so T runs
// past 9, where a lexical sort would put 10 first), the measures linear in the layer and the
// document, NaN where SPEC §8 has none (depth_jaccard at the last layer, turnover at the first).
std::shared_ptr<study::Study> make_study(const std::string& model, double shift = 0, int64_t docs = 20) {
  auto s = std::make_shared<study::Study>();
  s->params.set("model", model);
  s->taus = {0.3, 0.5};
  s->layers = {0, 4, 8};
  s->quality_modes = {"ada-cascade", "ada-independent"};
  s->methods = {"cascade", "random", "h2o"};
  s->seed = 7;
  s->resamples = 2000;  // quick; the CIs are what aggregate() says whatever B is
  const int64_t L = 3, taus = 2, M = 3;
  s->arrays.reserve(9);  // the references below stay valid
  auto array = [&](const std::string& name, std::vector<int64_t> shape) -> study::Array& {
    s->arrays.push_back({name, std::move(shape), {}});
    return s->arrays.back();
  };
  study::Array& casc = array("layers/r_casc_over_T", {L, taus});
  study::Array& ind = array("layers/r_ind_over_T", {L, taus});
  study::Array& jac = array("layers/depth_jaccard", {L, taus});
  study::Array& fid = array("layers/casc_fidelity", {L, taus});
  study::Array& turn = array("layers/turnover", {L, taus});
  study::Array& gs = array("summary/gram_savings", {taus});
  study::Array& qd = array("quality/delta_ppl", {2, taus});
  study::Array& mr = array("methods/r", {M, L});
  study::Array& me = array("methods/attn_err", {M, L});
  for (int64_t d = 0; d < docs; ++d) {
    const int64_t T = 8 + d;
    s->documents.push_back({QString("%1").arg(d, 16, 16, QChar('0')).toStdString(), "doc" + std::to_string(d) + ".txt",
                            d * 100, T, d, std::vector<int64_t>(static_cast<size_t>(T), d)});
    const double j = 0.02 * static_cast<double>(d - 10);  // per-document spread: the CI has a width
    for (int64_t l = 0; l < L; ++l)
      for (int64_t t = 0; t < taus; ++t) {
        const double c = 0.2 + 0.1 * l + 0.05 * t + j + shift;
        casc.values.push_back(c);
        ind.values.push_back(c + 0.1);
        jac.values.push_back(l == L - 1 ? kNaN : 0.4 + 0.15 * l + j + shift);
        fid.values.push_back(0.9 - 0.05 * l + j / 2);
        turn.values.push_back(l == 0 ? kNaN : 0.1 + 0.05 * l + j / 2);
      }
    for (int64_t t = 0; t < taus; ++t) gs.values.push_back(0.3 + 0.1 * t + 0.02 * static_cast<double>(d % 7) + shift);
    for (int64_t m = 0; m < 2; ++m)
      for (int64_t t = 0; t < taus; ++t) qd.values.push_back(0.05 * (m + 1) + 0.01 * t + j / 4);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t l = 0; l < L; ++l) {
        mr.values.push_back(static_cast<double>(T) * (0.3 + 0.05 * m));
        me.values.push_back((m == 0 ? 0.05 : 0.1 * m + 0.05) + 0.004 * static_cast<double>(d % 5) + shift / 4);
      }
  }
  return s;
}

QString shots_dir() {
  const char* dir = std::getenv("CASCADE_SHOTS_DIR");
  if (!dir || !*dir) return {};
  QDir().mkpath(dir);
  return dir;
}

TEST(StudyFigures, TheBandsDrawTheAggregatesMeanAndCi) {
  const StudyData data = make_study_data(make_study("demo-model"), "A");
  const std::vector<const StudyData*> studies{&data};
  StudyFigureState state;
  state.tau = 1;
  const QRectF rect(0, 0, 900, 560);
  const auto panels = study_bands_layout(rect, studies, state);
  ASSERT_EQ(panels.size(), 5u);  // r/T, depth_jaccard, casc_fidelity, turnover, gram_savings
  const QImage img = render_study_figure(StudyFigureKind::Bands, studies, state, rect.size()).convertToFormat(QImage::Format_RGB32);
  for (const StudyBandPanel& panel : panels) {
    ASSERT_FALSE(panel.series.empty()) << panel.measure.toStdString();
    for (const StudyBandSeries& s : panel.series) {
      const auto* agg = data.aggregates.find(s.array.toStdString());
      ASSERT_NE(agg, nullptr);
      for (size_t i = 0; i < s.points.size(); ++i) {
        const size_t flat = s.array.startsWith("summary/") ? i : i * 2 + 1;  // {L, taus} at τ index 1
        const stats::Describe& want = agg->cells[flat];
        const StudyBandPoint& q = s.points[i];
        if (!std::isfinite(want.mean)) {
          EXPECT_FALSE(std::isfinite(q.d.mean));
          continue;
        }
        EXPECT_DOUBLE_EQ(q.d.mean, want.mean);
        EXPECT_DOUBLE_EQ(q.d.ci95[0], want.ci95[0]);
        EXPECT_DOUBLE_EQ(q.d.ci95[1], want.ci95[1]);
        EXPECT_NEAR(q.mean.y(), panel.axes.py(want.mean), 1e-9);
        EXPECT_NEAR(q.hi.y(), panel.axes.py(want.ci95[1]), 1e-9);
        EXPECT_LT(q.hi.y(), q.mean.y());  // the CI's top is above the mean on the page
        EXPECT_GT(q.lo.y(), q.mean.y());
        EXPECT_TRUE(panel.axes.area.contains(q.hi) && panel.axes.area.contains(q.lo)) << panel.measure.toStdString();
      }
    }
  }
  // The band is painted: between the mean and the CI's top, halfway from layer 0 to layer 4, the
  // page is tinted blue (the first study's colour), not white.
  const StudyBandPanel& jac = panels[1];
  ASSERT_EQ(jac.measure, "depth_jaccard");
  const auto& p = jac.series[0].points;
  const double x = (p[0].mean.x() + p[1].mean.x()) / 2;
  const double mean_y = (p[0].mean.y() + p[1].mean.y()) / 2, hi_y = (p[0].hi.y() + p[1].hi.y()) / 2;
  ASSERT_GT(mean_y - hi_y, 5.0) << "the CI band is too thin to test";
  const QColor c = img.pixelColor(static_cast<int>(x), static_cast<int>(mean_y - (mean_y - hi_y) * 0.7));
  EXPECT_NE(c.rgb() & 0xFFFFFF, 0xFFFFFFu);
  EXPECT_GT(c.blue(), c.red());
}

TEST(StudyFigures, TheFilesStoredAggregatesAreWhatIsDrawn) {
  const auto s = make_study("demo-model");
  study::Aggregates stored = study::aggregate(*s);
  for (study::ArrayAggregate& a : stored.arrays)
    if (a.name == "layers/casc_fidelity")
      for (stats::Describe& d : a.cells) d.mean = 0.5, d.ci95 = {0.4, 0.6};
  const StudyData data = make_study_data(s, "A", stored);
  const auto panels = study_bands_layout(QRectF(0, 0, 900, 560), {&data}, StudyFigureState{});
  ASSERT_EQ(panels[2].measure, "casc_fidelity");
  for (const StudyBandPoint& q : panels[2].series[0].points) EXPECT_EQ(q.d.mean, 0.5);
}

TEST(StudyFigures, TheTradeoffIsEachMethodsMeanOverDocuments) {
  const auto s = make_study("demo-model");
  const StudyData data = make_study_data(s, "A");
  ASSERT_EQ(data.methods.size(), 3u);
  EXPECT_EQ(data.quality, "attn_err");
  for (size_t m = 0; m < 3; ++m) {
    EXPECT_EQ(data.methods[m].method.toStdString(), s->methods[m]);
    EXPECT_NEAR(data.methods[m].x.mean, 0.3 + 0.05 * static_cast<double>(m), 1e-12);  // r / T per document
    EXPECT_LE(data.methods[m].y.ci95[0], data.methods[m].y.mean);
    EXPECT_GE(data.methods[m].y.ci95[1], data.methods[m].y.mean);
  }
}

TEST(StudyFigures, TheStudyIsNamedByItsModelAndFile) {
  study::Study s;
  EXPECT_EQ(study_name(s, "/x/s.h5"), "s.h5");
  s.params.set("model_name", "gpt2");
  EXPECT_EQ(study_name(s, "/x/s.h5"), "gpt2 (s.h5)");
  s.params.set("model_name", "/work/x/data/demo/model/");
  EXPECT_EQ(study_name(s, "/x/s.h5"), "demo-model (s.h5)");
  s.params.set("model", "openai-community/gpt2");
  EXPECT_EQ(study_model(s), "openai-community/gpt2");
  EXPECT_EQ(study_name(s, ""), "openai-community/gpt2");
}

TEST(StudyFigures, TwoStudiesOverlayWithBothNamed) {
  const StudyData a = make_study_data(make_study("model-a"), study_name(*make_study("model-a"), "/x/a.h5"));
  const StudyData b = make_study_data(make_study("model-b", 0.1, 12), "model-b (b.h5)");
  EXPECT_EQ(a.name, "model-a (a.h5)");
  const std::vector<const StudyData*> both{&a, &b};
  for (StudyFigureKind k : study_figure_kinds()) {
    const QStringList labels = study_legend_labels(k, both);
    EXPECT_TRUE(labels.filter("model-a (a.h5)").size() == 1) << study_figure_id(k).toStdString();
    EXPECT_TRUE(labels.filter("model-b (b.h5)").size() == 1) << study_figure_id(k).toStdString();
  }
  const auto panels = study_bands_layout(QRectF(0, 0, 900, 560), both, StudyFigureState{});
  size_t second = 0;
  for (const StudyBandPanel& p : panels)
    for (const StudyBandSeries& s : p.series) second += s.study == 1;
  EXPECT_EQ(second, 6u);  // r_casc, r_ind, depth_jaccard, casc_fidelity, turnover, gram_savings
  // The second study is in its own colour on the page.
  const QImage img = render_study_figure(StudyFigureKind::Histogram, both, StudyFigureState{}, {700, 420}).convertToFormat(QImage::Format_RGB32);
  int64_t vermillion = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor c = img.pixelColor(x, y);
      vermillion += c.red() > 200 && c.green() < 140 && c.blue() < 90;
    }
  EXPECT_GT(vermillion, 50);
  if (const QString dir = shots_dir(); !dir.isEmpty())
    for (StudyFigureKind k : study_figure_kinds()) {
      const double w = 700, h = study_height_for_width(k, both, StudyFigureState{}, w);
      render_study_figure(k, both, StudyFigureState{}, {w, h}, 2.0).save(QDir(dir).filePath(study_figure_id(k) + "-two.png"));
    }
}

TEST(StudyFigures, EveryFigureExportsToPngSvgAndPdf) {
  const StudyData data = make_study_data(make_study("demo-model"), "A");
  const std::vector<const StudyData*> studies{&data};
  QTemporaryDir dir;
  const QString shots = shots_dir();
  for (StudyFigureKind k : study_figure_kinds())
    for (ExportFormat f : {ExportFormat::Png, ExportFormat::Svg, ExportFormat::Pdf}) {
      const QString path = dir.filePath(study_figure_id(k) + "." + extension(f));
      ASSERT_NO_THROW(export_study_figure(k, studies, StudyFigureState{}, path, ExportOptions{f, {}, 150}));
      EXPECT_GT(QFileInfo(path).size(), 500) << path.toStdString();
      if (f == ExportFormat::Png) {
        const QImage img(path);
        ASSERT_FALSE(img.isNull());
        EXPECT_GT(testing::ink(img), img.width() * img.height() / 50) << path.toStdString();
        if (!shots.isEmpty()) QFile::copy(path, QDir(shots).filePath(study_figure_id(k) + ".png"));
      }
      if (f == ExportFormat::Svg) {
        QFile svg(path);
        ASSERT_TRUE(svg.open(QIODevice::ReadOnly));
        EXPECT_TRUE(svg.readAll().contains("<svg"));
      }
    }
  // At the paper presets' widths and type sizes the figures still draw (and are saved to be looked at).
  for (const ExportPreset& preset : export_presets())
    for (StudyFigureKind k : study_figure_kinds()) {
      StudyFigureState st;
      st.font_pt = preset.font_pt;
      const QString path = dir.filePath(study_figure_id(k) + "-" + preset.id + ".png");
      ASSERT_NO_THROW(export_study_figure(k, studies, st, path, ExportOptions{ExportFormat::Png, {preset.width_pt, 0}, 150}));
      const QImage img(path);
      EXPECT_NEAR(img.width(), preset.width_pt * 150 / 72, 2);
      if (!shots.isEmpty()) QFile::copy(path, QDir(shots).filePath(QFileInfo(path).fileName()));
    }
  // A study without methods has no trade-off: the export says so rather than writing an empty page.
  auto bare = make_study("demo-model");
  std::erase_if(bare->arrays, [](const study::Array& a) { return a.name.rfind("methods/", 0) == 0; });
  const StudyData none = make_study_data(bare, "bare");
  EXPECT_THROW(export_study_figure(StudyFigureKind::Tradeoff, {&none}, StudyFigureState{}, dir.filePath("t.png"), {}),
               std::exception);
}

int64_t cell_number(const QSortFilterProxyModel& m, int row, int col) {
  return m.index(row, col).data(Qt::UserRole + 1).toLongLong();
}

TEST(StudyWindow, TheTableSortsNumbersAsNumbers) {
  app::StudyWindow w(make_study("demo-model"), "");
  QSortFilterProxyModel* m = w.table_model();
  ASSERT_EQ(m->rowCount(), 20);
  for (int r = 0; r < 20; ++r)  // unsorted at first: the canonical order
    EXPECT_EQ(m->index(r, 1).data().toString(), QString("doc%1.txt").arg(r));
  EXPECT_TRUE(w.measures().contains("summary/gram_savings"));
  EXPECT_TRUE(w.measures().contains("layers/depth_jaccard"));
  EXPECT_TRUE(w.measures().contains("methods/attn_err · h2o"));
  w.table()->sortByColumn(3, Qt::AscendingOrder);  // T: 8, 9, 10, … (lexically "10" < "8")
  for (int r = 0; r < 20; ++r) EXPECT_EQ(m->index(r, 3).data().toString(), QString::number(8 + r)) << r;
  w.table()->sortByColumn(2, Qt::DescendingOrder);  // offset: 1900, 1800, …, 0
  for (int r = 1; r < 20; ++r) EXPECT_GT(cell_number(*m, r - 1, 2), cell_number(*m, r, 2));
  // The measure column follows the combo, the layer and the τ, and keeps its sort.
  w.set_measure("layers/depth_jaccard");
  w.set_layer_index(1);
  w.set_tau_index(1);
  w.table()->sortByColumn(4, Qt::DescendingOrder);
  EXPECT_TRUE(m->headerData(4, Qt::Horizontal).toString().contains("layer 4"));
  double last = std::numeric_limits<double>::infinity();
  for (int r = 0; r < 20; ++r) {
    const double v = m->index(r, 4).data(Qt::UserRole + 1).toDouble();
    EXPECT_LE(v, last);
    last = v;
  }
  // Document 19 has the largest depth_jaccard (0.4 + 0.15 + 0.18) and comes first.
  EXPECT_EQ(m->index(0, 0).data().toString().toStdString(), make_study("x")->documents[19].id);
  EXPECT_NEAR(m->index(0, 4).data(Qt::UserRole + 1).toDouble(), 0.4 + 0.15 + 0.18, 1e-12);
}

TEST(StudyWindow, DoubleClickOpensTheSessionOrAsksForARun) {
  QTemporaryDir dir;
  auto s = make_study("demo-model");
  s->params.set("sessions", dir.path().toStdString());
  const std::string with_session = s->documents[3].id;
  QFile f(QDir(dir.path()).filePath(QString::fromStdString(with_session) + ".h5"));
  ASSERT_TRUE(f.open(QIODevice::WriteOnly));
  f.close();
  app::StudyWindow w(s, "");
  QSignalSpy open(&w, &app::StudyWindow::open_session_requested);
  QSignalSpy rerun(&w, &app::StudyWindow::rerun_requested);
  w.table()->sortByColumn(2, Qt::AscendingOrder);  // offset: row r is document r
  w.activate_row(3);
  ASSERT_EQ(open.count(), 1);
  EXPECT_EQ(open[0][0].toString(), f.fileName());
  w.activate_row(5);
  ASSERT_EQ(rerun.count(), 1);
  EXPECT_EQ(rerun[0][0].toString(), "demo-model");
  EXPECT_EQ(rerun[0][1].value<std::vector<int64_t>>(), s->documents[5].ids);
  EXPECT_DOUBLE_EQ(rerun[0][2].toDouble(), 0.3);
}

TEST(StudyWindow, ShowsTwoStudiesSideBySide) {
  app::StudyWindow w(make_study("model-a"), "/tmp/a.h5");
  w.add_study(make_study("model-b", 0.1, 12), "/tmp/b.h5");
  ASSERT_EQ(w.studies().size(), 2u);
  EXPECT_TRUE(w.windowTitle().contains("model-a (a.h5)"));
  EXPECT_TRUE(w.windowTitle().contains("model-b (b.h5)"));
  // The table lists either study's documents; a double-click runs that study's document with its model.
  EXPECT_EQ(w.table_model()->rowCount(), 20);
  w.show();
  auto* picker = w.findChild<QComboBox*>("study-table-study");
  ASSERT_NE(picker, nullptr);
  EXPECT_TRUE(picker->isVisible());
  w.set_table_study(1);
  EXPECT_EQ(w.table_model()->rowCount(), 12);
  EXPECT_EQ(w.table_model()->headerData(4, Qt::Horizontal).toString(), "summary/gram_savings @ τ = 0.30");
  QSignalSpy rerun(&w, &app::StudyWindow::rerun_requested);
  w.activate_row(0);
  ASSERT_EQ(rerun.count(), 1);
  EXPECT_EQ(rerun[0][0].toString(), "model-b");
  w.set_table_study(0);
  EXPECT_EQ(w.table_model()->rowCount(), 20);
  w.resize(1500, 800);
  w.show();
  QTest::qWait(50);
  const QImage shot = w.grab().toImage();
  EXPECT_GT(testing::ink(shot), shot.width() * shot.height() / 20);
  if (const QString dir = shots_dir(); !dir.isEmpty()) {
    shot.save(QDir(dir).filePath("study-window-two.png"));
    w.set_tau_index(1);
    QTest::qWait(20);
    w.grab().save(QDir(dir).filePath("study-window-two-tau1.png"));
  }
}

TEST(StudyWindow, TheMainWindowOpensStudiesFromTheFileMenu) {
  app::StartOptions options;
  options.restore = false;
  options.batch = true;  // a failure goes to batch_error, not a modal box
  app::MainWindow window(options);
  QStringList actions;
  for (QAction* a : window.findChildren<QAction*>()) actions << a->text();
  EXPECT_TRUE(actions.contains("Open &study…"));
  QSignalSpy error(&window, &app::MainWindow::batch_error);
  EXPECT_FALSE(window.open_study_file("/nonexistent/study.h5"));
  EXPECT_EQ(error.count(), 1);
  EXPECT_EQ(window.study_window(), nullptr);
}

TEST(StudyWindow, ADocumentWithoutSessionRunsItsIdsInTheMainWindow) {
  app::StartOptions options;
  options.restore = false;
  options.batch = true;
  app::MainWindow window(options);
  ASSERT_TRUE(testing::start_main_window(window));  // the bundled model
  const std::vector<int64_t> first = window.view()->snapshot()->record().ids;
  ASSERT_GT(first.size(), 12u);
  // A document is a window of ids as the study ran them: these, not the text box's re-tokenization.
  const std::vector<int64_t> ids(first.begin(), first.begin() + 12);
  QSignalSpy done(window.controller(), &app::Controller::job_finished);
  ASSERT_TRUE(window.view()->snapshot()->record().model);
  // The study names the model as the runner records it (model_name): the bundled one is kept.
  window.run_document(QString::fromStdString(window.view()->snapshot()->record().model->name), ids, 0.4, "doc0.txt @ 0");
  ASSERT_TRUE(testing::wait_until([&] { return done.count() == 1; }));
  EXPECT_EQ(window.view()->snapshot()->record().ids, ids);
  EXPECT_NEAR(window.view()->snapshot()->tau(), 0.4, 1e-9);
  // The text box holds the document's text now: Run would run it again, nothing is stale.
  EXPECT_EQ(window.settings_from_ui().text.toStdString(), window.view()->snapshot()->record().text);
  EXPECT_FALSE(window.stale());
  EXPECT_NEAR(window.settings_from_ui().tau, 0.4, 1e-9);
}

// A real study file — the one CASCADE_STUDY_FILE names, else one `cascadelens-cli study` writes
// here on four windows of the bundled corpus: every figure draws from what the file stores, and is
// saved to CASCADE_SHOTS_DIR to be looked at.
TEST(StudyWindow, DrawsAStudyFile) {
  std::string file = std::getenv("CASCADE_STUDY_FILE") ? std::getenv("CASCADE_STUDY_FILE") : "";
  const std::filesystem::path dir_made = std::filesystem::temp_directory_path() / ("cascade_study_" + std::to_string(getpid()));
  if (file.empty()) {
    std::filesystem::create_directories(dir_made);
    file = (dir_made / "s.h5").string();
    const std::string cmd = std::string("'") + CASCADE_CLI + "' study --limit 4 --max-tokens 64 --taus 0.3,0.5 --methods "
                            "cascade,random,h2o --resamples 200 --quiet --out '" + file + "' > /dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  app::LoadedStudy loaded = app::load_study(QString::fromStdString(file));
  ASSERT_TRUE(loaded.study && loaded.aggregates);
  const StudyData data = make_study_data(loaded.study, study_name(*loaded.study, QString::fromStdString(file)), loaded.aggregates);
  const QString dir = shots_dir();
  for (StudyFigureKind k : study_figure_kinds()) {
    if (!study_unavailable(k, {&data}).isEmpty()) continue;
    const double w = 700, h = study_height_for_width(k, {&data}, StudyFigureState{}, w);
    const QImage img = render_study_figure(k, {&data}, StudyFigureState{}, {w, h}, 2.0);
    EXPECT_GT(testing::ink(img), img.width() * img.height() / 50);
    if (!dir.isEmpty()) img.save(QDir(dir).filePath("file-" + study_figure_id(k) + ".png"));
  }
  std::filesystem::remove_all(dir_made);
}

}  // namespace
}  // namespace cascade::widgets
