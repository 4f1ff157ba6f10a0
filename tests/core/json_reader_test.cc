// JsonReader: every read names its pointer, unknown fields are errors, and nothing throws past
// read_json().
#include "core/json_reader.h"

#include <gtest/gtest.h>

#include <array>

namespace lockstep {
namespace json_reader_test {
namespace {

// The error a parse of `text` with `parse` reports, as one line.
template <typename F>
std::string error_of(std::string_view text, F parse) {
  auto document = parse_json_strict(text);
  if (const auto* e = std::get_if<JsonError>(&document)) return e->to_string();
  auto result = read_json([&] {
    JsonReader r(std::get<nlohmann::json>(document));
    parse(r);
    return 0;
  });
  if (const auto* e = std::get_if<JsonError>(&result)) return e->to_string();
  return "no error";
}

TEST(JsonReader, ReadsTypedFieldsAndDefaults) {
  const auto document = nlohmann::json::parse(
      R"({"b": true, "s": "x", "i": -4, "u": 18446744073709551615, "d": 0.5, "t": "1.5s"})");
  JsonReader r(document);
  EXPECT_TRUE(r.required<bool>("b"));
  EXPECT_EQ(r.required<std::string>("s"), "x");
  EXPECT_EQ(r.integer("i", -10, 10, 0), -4);
  EXPECT_EQ(r.optional<std::uint64_t>("u", 0), 18446744073709551615ULL);
  EXPECT_EQ(r.probability("d", 0.0), 0.5);
  EXPECT_EQ(r.duration("t", Nanos::zero()), milliseconds(1500));
  EXPECT_EQ(r.duration("absent", seconds(3)), seconds(3));
  EXPECT_EQ(r.optional<std::string>("absent_too", "fallback"), "fallback");
  r.finish();
}

TEST(JsonReader, ErrorsCarryThePointerOfTheValue) {
  EXPECT_EQ(error_of(R"({"a": {"b": [1, {"c": "x"}]}})",
                     [](JsonReader& r) { r.object("a").array("b")[1].as_integer(0, 5); }),
            "/a/b/1: expected an integer in 0..5, got an object");
  EXPECT_EQ(error_of(R"({"a/b": {"~": 2}})",
                     [](JsonReader& r) { r.object("a/b").required<std::string>("~"); }),
            "/a~1b/~0: expected a string, got 2");
}

TEST(JsonReader, MissingRequiredFieldSaysWhatWasExpected) {
  EXPECT_EQ(
      error_of(R"({"x": {}})", [](JsonReader& r) { r.object("x").required_duration("timeout"); }),
      "/x/timeout: expected a duration with a unit (ns, us, ms, s, m, h) like \"150ms\", "
      "got nothing: the field is required");
}

TEST(JsonReader, UnknownFieldIsAnErrorWithASuggestion) {
  const auto read = [](JsonReader& r) {
    r.duration("election_timeout", milliseconds(150));
    r.optional<bool>("pre_vote", false);
    r.finish();
  };
  EXPECT_EQ(error_of(R"({"election_timout": "1s"})", read),
            "/election_timout: expected one of the fields election_timeout, pre_vote, got unknown "
            "field \"election_timout\" (did you mean \"election_timeout\"?)");
  EXPECT_EQ(error_of(R"({"zzz": 1})", read),
            "/zzz: expected one of the fields election_timeout, pre_vote, got unknown field "
            "\"zzz\"");
  EXPECT_EQ(error_of(R"({"pre_vote": true})", read), "no error");
}

TEST(JsonReader, DurationsNeedUnitsAndRespectTheirRange) {
  const auto bounded = [](JsonReader& r) {
    r.duration("d", Nanos::zero(), nanoseconds(1), seconds(60));
  };
  EXPECT_EQ(error_of(R"({"d": 150})", bounded),
            "/d: expected a duration with a unit (ns, us, ms, s, m, h) like \"150ms\", got 150");
  EXPECT_EQ(error_of(R"({"d": "150"})", bounded),
            "/d: expected a duration with a unit (ns, us, ms, s, m, h) like \"150ms\", got "
            "\"150\"");
  EXPECT_EQ(error_of(R"({"d": "-1s"})", bounded),
            "/d: expected a duration in 1ns..1m, got \"-1s\"");
  EXPECT_EQ(error_of(R"({"d": "2m"})", bounded), "/d: expected a duration in 1ns..1m, got \"2m\"");
  EXPECT_EQ(error_of(R"({"d": "-1s"})", [](JsonReader& r) { r.duration("d", Nanos::zero()); }),
            "/d: expected a non-negative duration, got \"-1s\"");
  const auto document = nlohmann::json::parse(R"({"by": "-2.5s"})");
  JsonReader r(document);
  EXPECT_EQ(r.duration("by", Nanos::zero(), -seconds(10), seconds(10)), milliseconds(-2500));
}

TEST(JsonReader, NumbersAndEnumsNameWhatIsAllowed) {
  EXPECT_EQ(error_of(R"({"p": 1.5})", [](JsonReader& r) { r.probability("p", 0); }),
            "/p: expected a probability in 0..1, got 1.5");
  EXPECT_EQ(error_of(R"({"n": 3.0})", [](JsonReader& r) { r.integer("n", 1, 9, 3); }),
            "/n: expected an integer in 1..9, got 3.0");
  EXPECT_EQ(error_of(R"({"u": -1})", [](JsonReader& r) { r.optional<std::uint64_t>("u", 0); }),
            "/u: expected a non-negative integer, got -1");
  constexpr std::array<std::string_view, 2> kModes = {"fast", "safe"};
  EXPECT_EQ(error_of(R"({"mode": "quick"})", [&](JsonReader& r) { r.enum_of("mode", kModes, 0); }),
            "/mode: expected one of fast, safe, got \"quick\"");
  const auto document = nlohmann::json::parse(R"({"mode": "safe"})");
  JsonReader r(document);
  EXPECT_EQ(r.enum_of("mode", kModes, 0), 1U);
}

TEST(JsonReader, LongStringsAreCutInMessages) {
  EXPECT_EQ(describe_json(std::string(60, 'a')), "\"" + std::string(40, 'a') + "...\"");
  EXPECT_EQ(describe_json(nlohmann::json::array()), "[]");
  EXPECT_EQ(describe_json(nlohmann::json::object()), "{}");
  EXPECT_EQ(describe_json(nullptr), "null");
}

TEST(JsonReader, MembersReadsAMapAndMarksEveryKeyKnown) {
  const auto document = nlohmann::json::parse(R"({"x": 1, "y": 2})");
  JsonReader r(document);
  const auto members = r.members();
  ASSERT_EQ(members.size(), 2U);
  EXPECT_EQ(members[1].first, "y");
  EXPECT_EQ(members[1].second.pointer(), "/y");
  r.finish();
}

TEST(JsonReader, StrictParseRejectsDuplicateKeysWithTheirPointer) {
  auto result = parse_json_strict(R"({"a": [0, {"b": 1}, {"c": 1, "c": 2}]})");
  ASSERT_TRUE(std::holds_alternative<JsonError>(result));
  EXPECT_EQ(std::get<JsonError>(result).to_string(),
            "/a/2/c: expected each field once, got \"c\" a second time");
}

TEST(JsonReader, StrictParseReportsSyntaxErrorsByLineAndColumn) {
  auto result = parse_json_strict("{\n  \"a\": tru\n}");
  ASSERT_TRUE(std::holds_alternative<JsonError>(result));
  EXPECT_EQ(std::get<JsonError>(result).to_string(),
            "line 2, column 11: syntax error while parsing value - invalid literal; last read: "
            "'\"a\": tru<U+000A>'");
  for (std::string_view text : {"", "{\"a\": [1, 2", "{\"a\": 1} x"}) {
    auto r = parse_json_strict(text);
    ASSERT_TRUE(std::holds_alternative<JsonError>(r)) << text;
    EXPECT_TRUE(std::get<JsonError>(r).to_string().starts_with("line 1, column ")) << text;
  }
}

}  // namespace
}  // namespace json_reader_test
}  // namespace lockstep
