#include "reports/html.h"

#include <fmt/format.h>

#include "core/assert.h"

namespace lockstep::reports {

namespace {

constexpr std::string_view kStyle = R"(body{font-family:sans-serif;margin:24px auto;max-width:1180px;color:#222;line-height:1.4}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px 0;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
td.pass{background:#dff0d8;color:#1d5e1d;font-weight:bold}
td.fail{background:#f2dede;color:#a12622;font-weight:bold}
td.na{color:#888}
td.unknown{background:#fcf8e3;color:#8a6d3b;font-weight:bold}
td.num{text-align:right;font-variant-numeric:tabular-nums}
p.outcome{font-size:15px}
span.pass{color:#1d5e1d;font-weight:bold}span.fail{color:#a12622;font-weight:bold}
figure{margin:16px 0}figcaption{font-size:13px;color:#555;max-width:900px}
figure svg{max-width:100%;height:auto}
code{background:#f5f5f5;padding:1px 4px}
)";

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view verdict_class(std::string_view verdict) {
  if (verdict == "pass") return "pass";
  if (verdict == "FAIL") return "fail";
  if (verdict == "n/a") return "na";
  return "unknown";
}

HtmlPage::HtmlPage(std::string_view title) {
  out_ = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>\n{}</style>\n</head>\n<body>\n",
      escape_html(title), kStyle);
}

void HtmlPage::heading(int level, std::string_view text) {
  LS_ASSERT(!finished_);
  LS_ASSERT(level >= 1 && level <= 4);
  out_ += fmt::format("<h{0}>{1}</h{0}>\n", level, escape_html(text));
}

void HtmlPage::paragraph(std::string_view text) {
  LS_ASSERT(!finished_);
  out_ += fmt::format("<p>{}</p>\n", escape_html(text));
}

void HtmlPage::markup(std::string_view html) {
  LS_ASSERT(!finished_);
  out_ += fmt::format("<p>{}</p>\n", html);
}

void HtmlPage::table(const std::vector<std::string>& header,
                     const std::vector<std::vector<Cell>>& rows) {
  LS_ASSERT(!finished_);
  out_ += "<table>\n<tr>";
  for (const std::string& h : header) out_ += fmt::format("<th>{}</th>", escape_html(h));
  out_ += "</tr>\n";
  for (const auto& row : rows) {
    LS_ASSERT_EQ(row.size(), header.size());
    out_ += "<tr>";
    for (const Cell& c : row) {
      if (c.css_class.empty()) {
        out_ += fmt::format("<td>{}</td>", escape_html(c.text));
      } else {
        out_ += fmt::format("<td class=\"{}\">{}</td>", escape_html(c.css_class), escape_html(c.text));
      }
    }
    out_ += "</tr>\n";
  }
  out_ += "</table>\n";
}

void HtmlPage::figure(std::string_view svg, std::string_view caption) {
  LS_ASSERT(!finished_);
  const auto start = svg.find("<svg");
  LS_ASSERT(start != std::string_view::npos);
  // Inline SVG in HTML needs no namespace declarations; dropping them leaves the page without a
  // single URL in it.
  std::string body(svg.substr(start));
  for (std::string_view ns : {std::string_view(" xmlns=\"http://www.w3.org/2000/svg\""),
                              std::string_view(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"")}) {
    for (auto at = body.find(ns); at != std::string::npos; at = body.find(ns, at)) {
      body.erase(at, ns.size());
    }
  }
  out_ += "<figure>\n";
  out_ += body;
  if (!caption.empty()) out_ += fmt::format("<figcaption>{}</figcaption>\n", escape_html(caption));
  out_ += "</figure>\n";
}

std::string HtmlPage::finish() {
  LS_ASSERT(!finished_);
  finished_ = true;
  out_ += "</body>\n</html>\n";
  return std::move(out_);
}

}  // namespace lockstep::reports
