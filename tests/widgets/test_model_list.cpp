// File → Open model from the HF cache: every cached model is listed with its model_type and the
// weights' size in the dtype a run would use; one the architecture table lacks is greyed, cannot be
// chosen, and says why. The cache is a fake one in a temporary folder (HF_HOME), as
// huggingface_hub lays it out.
#include <ATen/ATen.h>

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QStatusBar>
#include <QDialogButtonBox>
#include <QDir>
#include <QListWidget>
#include <QMenuBar>
#include <QPushButton>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "core/models/architectures.h"
#include "data/formats/activation_io.h"
#include "fixtures.h"
#include "gui/cached_model_dialog.h"

namespace cascade::widgets {
namespace {

// Sets an environment variable for one test (restored after).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const QByteArray& value) : name_(name), old_(qgetenv(name)), had_(qEnvironmentVariableIsSet(name)) {
    value.isNull() ? qunsetenv(name) : qputenv(name, value);
  }
  ~ScopedEnv() { had_ ? qputenv(name_, old_) : qunsetenv(name_); }

 private:
  const char* name_;
  QByteArray old_;
  bool had_;
};

// HOME/hub/models--ORG--NAME/{refs/main, snapshots/rev/config.json [+ model.safetensors]}.
void add_cached_model(const QString& home, const QString& folder, const std::string& config, bool weights) {
  const QString snapshot = home + "/hub/" + folder + "/snapshots/rev";
  ASSERT_TRUE(QDir().mkpath(snapshot));
  ASSERT_TRUE(QDir().mkpath(home + "/hub/" + folder + "/refs"));
  std::ofstream(QString(home + "/hub/" + folder + "/refs/main").toStdString()) << "rev\n";
  std::ofstream(QString(snapshot + "/config.json").toStdString()) << config;
  if (weights)
    data::write_safetensors((snapshot + "/model.safetensors").toStdString(), {{"model.embed_tokens.weight", at::zeros({8, 4})}});
}

const std::string kLlama = R"({"model_type": "llama", "vocab_size": 8, "hidden_size": 4, "num_hidden_layers": 1,
  "num_attention_heads": 1, "intermediate_size": 8, "torch_dtype": "bfloat16"})";
const std::string kBert = R"({"model_type": "bert", "hidden_size": 4})";

class ModelList : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(home_.isValid());
    add_cached_model(home_.path(), "models--meta-llama--Tiny-Llama", kLlama, true);
    add_cached_model(home_.path(), "models--google--bert-tiny", kBert, false);  // config.json only
  }
  QTemporaryDir home_;
  ScopedEnv no_hub_{"HF_HUB_CACHE", QByteArray()};  // so that HF_HOME decides
  ScopedEnv hf_home_{"HF_HOME", home_.path().toUtf8()};
};

TEST_F(ModelList, EveryCachedModelWithItsTypeTheUnsupportedOneGreyedWithTheReason) {
  app::CachedModelDialog dialog(nullptr, DeviceKind::Cpu, std::nullopt, 8ull << 30);
  dialog.show();
  QListWidget* list = dialog.findChild<QListWidget*>("cached-models");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->count(), 2);  // sorted by id

  QListWidgetItem* bert = list->item(0);
  EXPECT_EQ(bert->data(Qt::UserRole).toString(), "google/bert-tiny");
  EXPECT_TRUE(bert->text().startsWith("google/bert-tiny\nbert — unsupported model_type 'bert'")) << bert->text().toStdString();
  EXPECT_EQ(bert->toolTip().toStdString(), unsupported_model_type("bert"));
  EXPECT_FALSE(bert->flags() & Qt::ItemIsEnabled);  // greyed
  EXPECT_FALSE(bert->flags() & Qt::ItemIsSelectable);

  QListWidgetItem* llama = list->item(1);
  EXPECT_EQ(llama->data(Qt::UserRole).toString(), "meta-llama/Tiny-Llama");
  // 32 parameters: 128 B in float32, which fits in 8 GiB.
  EXPECT_EQ(llama->text().toStdString(), "meta-llama/Tiny-Llama\nllama · 128 B in float32");
  EXPECT_TRUE(llama->toolTip().startsWith("float32: the weights take 128 B (32 parameters); the CPU default, it fits"))
      << llama->toolTip().toStdString();
  EXPECT_TRUE(llama->flags() & Qt::ItemIsEnabled);

  // The supported one is chosen; clicking the greyed one changes nothing.
  EXPECT_EQ(dialog.selected_id(), "meta-llama/Tiny-Llama");
  QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(bert).center());
  EXPECT_EQ(dialog.selected_id(), "meta-llama/Tiny-Llama");
  auto* buttons = dialog.findChild<QDialogButtonBox*>();
  ASSERT_NE(buttons, nullptr);
  EXPECT_TRUE(buttons->button(QDialogButtonBox::Open)->isEnabled());
  if (const QString shots = qEnvironmentVariable("CASCADE_SHOTS_DIR"); !shots.isEmpty()) {  // to look at
    QDir().mkpath(shots);
    dialog.grab().save(QDir(shots).filePath("cached-models.png"));
  }
}

TEST_F(ModelList, SizesFollowTheDeviceTheDtypeAndTheMemory) {
  // On a GPU the checkpoint's dtype; an explicit dtype as asked.
  EXPECT_EQ(app::CachedModelDialog(nullptr, DeviceKind::Cuda, std::nullopt).list()->item(1)->text().toStdString(),
            "meta-llama/Tiny-Llama\nllama · 64 B in bfloat16");
  EXPECT_EQ(app::CachedModelDialog(nullptr, DeviceKind::Cpu, DType::BFloat16, 8ull << 30).list()->item(1)->text().toStdString(),
            "meta-llama/Tiny-Llama\nllama · 64 B in bfloat16");
  // No memory to spare: greyed, with the numbers in the tooltip, and nothing to open.
  app::CachedModelDialog full(nullptr, DeviceKind::Cpu, std::nullopt, 0);
  QListWidgetItem* llama = full.list()->item(1);
  EXPECT_EQ(llama->text().toStdString(), "meta-llama/Tiny-Llama\nllama — too large for this machine's memory");
  EXPECT_TRUE(llama->toolTip().contains("the weights do not fit in memory: 32 parameters take 128 B in float32"))
      << llama->toolTip().toStdString();
  EXPECT_FALSE(llama->flags() & Qt::ItemIsEnabled);
  EXPECT_EQ(full.selected_id(), "");
}

TEST_F(ModelList, TheFileMenuOpensIt) {
  app::StartOptions options;
  options.restore = false;
  app::MainWindow window(options);
  window.show();
  QAction* action = nullptr;
  for (QAction* menu : window.menuBar()->actions())
    if (menu->menu())
      for (QAction* a : menu->menu()->actions())
        if (a->text().contains("HF &cache")) action = a;
  ASSERT_NE(action, nullptr);
  int listed = -1;
  std::function<void()> inspect = [&] {  // once the dialog is up (it runs modally)
    auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
    if (!dialog) return QTimer::singleShot(20, inspect);
    if (auto* list = dialog->findChild<QListWidget*>("cached-models")) listed = list->count();
    dialog->reject();
  };
  QTimer::singleShot(0, inspect);
  action->trigger();
  EXPECT_EQ(listed, 2);
}

// The dtype box starts on auto; after a run the status line says what was chosen and how much the weights take.
TEST(ModelDtype, AutoAndTheStatusLineSaysTheChoice) {
  app::StartOptions options;
  options.restore = false;
  app::MainWindow window(options);
  auto* dtype = window.findChild<QComboBox*>("dtype");
  ASSERT_NE(dtype, nullptr);
  EXPECT_EQ(dtype->currentText(), "auto");
  EXPECT_FALSE(window.settings_from_ui().dtype.has_value());
  ASSERT_TRUE(testing::start_main_window(window));  // the bundled model
  EXPECT_EQ(window.view()->snapshot()->record().dtype, DType::Float32);  // small: it fits
  EXPECT_FALSE(window.stale());  // auto matches the float32 it chose
  bool said = false;
  for (QLabel* label : window.statusBar()->findChildren<QLabel*>())
    said = said || label->text().contains("float32: the weights take");
  EXPECT_TRUE(said);
  dtype->setCurrentText("bfloat16");
  EXPECT_TRUE(window.stale());
}

}  // namespace
}  // namespace cascade::widgets
