#pragma once
// The English text for the bundled demo model, read from freely licensed Debian packages (no
// network): the King James Bible of bible-kjv-text and the fortune cookies of fortunes-min and fortunes.
#include <cstdint>
#include <string>
#include <vector>

namespace cascade::data {

struct CorpusSource {
  std::string name;     // "King James Bible"
  std::string package;  // Debian package that installs it ("bible-kjv-text")
  std::string license;  // the text's licence, from the package's /usr/share/doc/<package>/copyright
  std::string path;     // the file read
};

// The sources, in reading order:
//   bible-kjv-text  /usr/lib/bible.data: the KJV text (public domain: the 1611 translation's copyright
//                   has expired; the BRS data file is "for unrestricted use"). Stored in BRS's
//                   windowed LZW format, decoded here.
//   fortunes-min    /usr/share/games/fortunes/{fortunes,literature,riddles}: plain text, '%' lines
//                   between cookies (BSD licence of fortune-mod, University of California).
//   fortunes        /usr/share/games/fortunes/<jar> for 24 prose jars of the full collection (same
//                   format and licence; the list and what is left out is in demo_corpus.cpp).
std::vector<CorpusSource> demo_corpus_sources();

// The sources' text as cleaned UTF-8: "\n" line endings, no verse references, no '%' separators, no
// blank lines inside a paragraph; paragraphs (a Bible chapter with one verse a line, one fortune)
// separated by one empty line, the text ending in "\n". A missing file throws InputError naming it,
// the package and the apt-get command; a malformed one throws InputError naming the file.
std::string read_corpus(const std::vector<CorpusSource>& sources);

// Whether every source's file exists (the tests skip without the packages).
bool corpus_available(const std::vector<CorpusSource>& sources);

struct CorpusSplit {
  std::string train;
  std::string validation;
};

// Deterministic split by paragraph ("\n\n"-separated): paragraph i (from 0) goes to validation when
// i % every == every - 1, else to training; each part keeps the "\n\n" separators. every >= 2.
CorpusSplit split_corpus(const std::string& text, int64_t every = 20);

}  // namespace cascade::data
