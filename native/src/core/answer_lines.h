// The line scan of the final-answer parser (src/extract/answer.ts,
// scanAnswerLines): which lines read `LABEL: value`, with the label
// normalised and the value cleaned exactly as the TypeScript does it. Only
// texts of printable ASCII, tabs and newlines are scanned here (there the
// regex's Unicode rules reduce to plain bytes); for any other text the
// caller runs the TypeScript scan instead. Mapping labels to fields and
// normalising values stay in TypeScript.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace tce {

struct AnswerLine {
  std::string label;  // trimmed, upper case, runs of spaces as '_'
  std::string value;  // '**'/'__' removed, trimmed
  size_t at = 0;      // offset of the raw value in the text (where a waypoint list is looked for)
};

/** False (and `out` untouched) when the text holds a byte outside
 * printable ASCII, '\t' and '\n'. */
bool ScanAnswerLines(const std::string& text, std::vector<AnswerLine>* out);

}  // namespace tce
