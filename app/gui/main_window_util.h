#pragma once
// What the main window's source files share (private to app/gui).
#include <QRegularExpression>
#include <QString>
#include <QStringList>

#include <string>

#include "data/formats/activation_io.h"

namespace cascade::app {

inline QString q(const std::string& s) { return QString::fromStdString(s); }

inline bool looks_like_activations(const QString& path) {
  return data::activation_format_of(path.toStdString()) != nullptr;
}

// "Activations (*.npy *.safetensors *.h5 *.hdf5)" from the format table.
inline QString activation_filter() {
  QStringList patterns;
  for (const auto& f : data::activation_formats())
    for (const auto& e : f.extensions) patterns << "*" + QString::fromStdString(e);
  return "Activations (" + patterns.join(' ') + ")";
}

// The dtype box's first entry: data::choose_dtype decides (the weights' size against the memory).
inline const char* const kAutoDtype = "auto";

inline const char* const kSessionFilter = "Cascade Lens sessions (*.h5 *.hdf5)";

// A file-name stem: lower case, runs of anything but letters, digits, '.', '_' → one '-'.
inline QString file_stem(const QString& text, int max_chars) {
  QString stem = text.toLower();
  stem.replace(QRegularExpression("[^a-z0-9._]+"), "-");
  stem = stem.left(max_chars);
  while (stem.startsWith('-') || stem.startsWith('.')) stem.remove(0, 1);
  while (stem.endsWith('-') || stem.endsWith('.')) stem.chop(1);
  return stem;
}

}  // namespace cascade::app
