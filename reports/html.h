// A small writer for self-contained HTML reports: one file, its CSS inline, its plots inline SVG,
// no scripts and nothing fetched from elsewhere, so a report opens anywhere, offline, and the
// same results always give the same bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lockstep::reports {

// Text safe inside HTML elements and double-quoted attributes.
std::string escape_html(std::string_view text);

// The CSS class a verdict cell gets ("pass", "fail", "na", "unknown"), from the verdict's text
// as the verdict tables print it ("pass", "FAIL", "n/a", "unknown").
std::string_view verdict_class(std::string_view verdict);

// An HTML table cell: its text, and a CSS class ("" for none).
struct Cell {
  std::string text;
  std::string css_class;
  Cell(std::string t) : text(std::move(t)) {}  // NOLINT: rows are written as {"a", "b"}
  Cell(const char* t) : text(t) {}             // NOLINT
  Cell(std::string t, std::string c) : text(std::move(t)), css_class(std::move(c)) {}
};

class HtmlPage {
 public:
  explicit HtmlPage(std::string_view title);

  void heading(int level, std::string_view text);
  void paragraph(std::string_view text);  // escaped
  // A paragraph of trusted markup: the caller escaped whatever came from outside.
  void markup(std::string_view html);
  void table(const std::vector<std::string>& header, const std::vector<std::vector<Cell>>& rows);
  // An inline SVG document (from render_svg, render_lanes or dot) with a caption. An XML prolog
  // or DOCTYPE before "<svg" is dropped (inline SVG must not carry them), and so are the SVG and
  // XLink namespace declarations, which HTML does not need.
  void figure(std::string_view svg, std::string_view caption);

  // The document; the page cannot be added to afterwards.
  std::string finish();

 private:
  std::string out_;
  bool finished_ = false;
};

}  // namespace lockstep::reports
