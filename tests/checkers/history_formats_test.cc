// The history readers: the Jepsen etcd and EDN kv lines as the data README defines them, our own
// JSON format as history_formats.h documents it, and one precise error for each kind of bad input.
#include "checkers/history_formats.h"

#include <gtest/gtest.h>

#include <string>

namespace lockstep::checkers {
namespace history_formats_test {
namespace {

LoadedHistory parsed(const HistoryResult& r) {
  if (const auto* e = std::get_if<FormatError>(&r)) {
    ADD_FAILURE() << "line " << e->line << ": " << e->message;
    return {};
  }
  return std::get<LoadedHistory>(r);
}

FormatError error(const HistoryResult& r) {
  if (!std::holds_alternative<FormatError>(r)) {
    ADD_FAILURE() << "parsed without an error";
    return {};
  }
  return std::get<FormatError>(r);
}

std::string etcd(const std::string& body) {
  std::string out;
  std::size_t start = 0;
  while (start < body.size()) {
    const std::size_t nl = body.find('\n', start);
    out += "INFO  jepsen.util - " + body.substr(start, nl - start) + "\n";
    start = nl == std::string::npos ? body.size() : nl + 1;
  }
  return out;
}

TEST(JepsenEtcd, ReadsTabsAndRunsOfSpacesAlike) {
  const LoadedHistory tabs = parsed(parse_jepsen_etcd(etcd("3\t:invoke\t:cas\t[1 2]\n3\t:ok\t:cas\t[1 2]")));
  const LoadedHistory spaces =
      parsed(parse_jepsen_etcd(etcd("3   :invoke :cas    [1 2]\n3   :ok     :cas    [1 2]")));
  ASSERT_EQ(tabs.history.operations.size(), 1u);
  ASSERT_EQ(spaces.history.operations.size(), 1u);
  for (const LoadedHistory* h : {&tabs, &spaces}) {
    const Operation& op = h->history.operations[0];
    EXPECT_EQ(op.process, 3u);
    EXPECT_EQ(op.f, "cas");
    EXPECT_EQ(op.args, (std::vector<Value>{Value{std::int64_t{1}}, Value{std::int64_t{2}}}));
    EXPECT_EQ(op.outcome, Outcome::ok);
    EXPECT_EQ(op.call, Nanos{1});  // time is the line number
    EXPECT_EQ(op.ret, Nanos{2});
    EXPECT_EQ(op.origin, "lines 1-2");
    EXPECT_EQ(h->model, ModelKind::register_);
    EXPECT_EQ(h->history.time_axis, TimeAxis::line);
  }
}

TEST(JepsenEtcd, OutcomesFollowTheDataReadme) {
  const LoadedHistory h = parsed(parse_jepsen_etcd(etcd(
      "0\t:invoke\t:read\tnil\n"
      "1\t:invoke\t:write\t4\n"
      "2\t:invoke\t:cas\t[4 0]\n"
      "3\t:invoke\t:read\tnil\n"
      "4\t:invoke\t:write\t7\n"
      "0\t:ok\t:read\tnil\n"
      "1\t:info\t:write\t:timed-out\n"
      "2\t:fail\t:cas\t[4 0]\n"
      "3\t:fail\t:read\t:timed-out\n")));
  const auto& ops = h.history.operations;
  ASSERT_EQ(ops.size(), 5u);
  EXPECT_EQ(ops[0].outcome, Outcome::ok);  // :ok :read nil: never written
  EXPECT_EQ(ops[0].result, Value{});
  EXPECT_EQ(ops[1].outcome, Outcome::unknown);  // :info: may or may not have happened
  EXPECT_EQ(ops[2].outcome, Outcome::failed);   // :fail :cas: observed "not 4"
  EXPECT_EQ(ops[2].args[0], Value{std::int64_t{4}});
  EXPECT_EQ(ops[3].outcome, Outcome::failed);   // :fail :read: no effect, nothing observed
  EXPECT_EQ(ops[4].outcome, Outcome::unknown);  // never completed by the end of the log
  EXPECT_EQ(ops[4].origin, "line 5 (never completed)");
}

TEST(JepsenEtcd, EmptyFileIsAnEmptyHistory) {
  EXPECT_TRUE(parsed(parse_jepsen_etcd("")).history.operations.empty());
}

TEST(JepsenEtcd, MalformedLineIsReportedWithItsNumberAndWhatWasExpected) {
  const auto fails = [](const std::string& text, std::size_t line, const std::string& message) {
    const FormatError e = error(parse_jepsen_etcd(text));
    EXPECT_EQ(e.line, line) << text;
    EXPECT_EQ(e.message, message) << text;
  };
  fails("hello\n", 1, "expected \"INFO  jepsen.util - PROC TYPE FN ARG\", got \"hello\"");
  fails(etcd("0\t:invoke\t:read\tnil\nx\t:ok\t:read\t3"), 2,
        "expected a process id (an integer >= 0), got \"x\"");
  fails(etcd("0\t:invoke\t:read\tnil\n0\t:done\t:read\t3"), 2,
        "expected TYPE :invoke, :ok, :fail or :info, got \":done\"");
  fails(etcd("0\t:invoke\t:delete\tnil"), 1, "expected FN :read, :write or :cas, got \":delete\"");
  fails(etcd("0\t:invoke\t:write\tfour"), 1, "expected an integer to write, got \"four\"");
  fails(etcd("0\t:invoke\t:cas\t[1 2"), 1,
        "expected [EXPECTED NEW] with integers or nil, got \"[1 2\"");
  fails(etcd("0\t:invoke\t:write\t1\n0\t:ok\t:write\t2"), 2,
        "expected the argument of the invoke on line 1, got \"2\"");
  fails(etcd("0\t:ok\t:read\t1"), 1,
        "process 0 completes a read it never called; expected an invoke of process 0 on an earlier "
        "line");
  fails(etcd("0\t:invoke\t:read\tnil\n0\t:invoke\t:read\tnil"), 2,
        "process 0 calls read while its read from line 1 is still open; expected a completion of "
        "that call first");
  fails(etcd("0\t:invoke\t:read\tnil\n0\t:ok\t:write\t1"), 2,
        "expected the completion of process 0's read from line 1, got a completion of write");
  fails(etcd("0\t:invoke\t:read\tnil\n0\t:fail\t:read\t3"), 2,
        "expected :timed-out for a failed :read, got \"3\"");
}

TEST(EdnKv, ReadsPorcupineLines) {
  const LoadedHistory h = parsed(parse_edn_kv(
      "{:process 0, :type :invoke, :f :append, :key \"4\", :value \"x 0 1 y\"}\n"
      "{:process 1, :type :invoke, :f :get, :key \"4\", :value nil}\n"
      "{:process 0, :type :ok, :f :append, :key \"4\", :value \"x 0 1 y\"}\n"
      "{:process 1, :type :ok, :f :get, :key \"4\", :value \"x 0 1 y\"}\n"));
  ASSERT_EQ(h.history.operations.size(), 2u);
  EXPECT_EQ(h.model, ModelKind::kv);
  const Operation& append = h.history.operations[0];
  EXPECT_EQ(append.key, "4");
  EXPECT_EQ(append.f, "append");
  EXPECT_EQ(append.args, (std::vector<Value>{Value{std::string("x 0 1 y")}}));
  EXPECT_EQ(append.origin, "lines 1-3");
  const Operation& get = h.history.operations[1];
  EXPECT_EQ(get.result, Value{std::string("x 0 1 y")});
  EXPECT_EQ(get.ret, Nanos{4});
}

TEST(EdnKv, MalformedLineIsReportedWithItsNumberAndWhatWasExpected) {
  const std::string ok_invoke = "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n";
  const auto fails = [](const std::string& text, std::size_t line, const std::string& message) {
    const FormatError e = error(parse_edn_kv(text));
    EXPECT_EQ(e.line, line) << text;
    EXPECT_EQ(e.message, message) << text;
  };
  fails("[:process 0]", 1, "expected '{', got \"[:process 0]\"");
  fails(ok_invoke + "{:process 0, :type :ok, :f :get, :value \"a\"}", 2,
        "expected :key (a string), got nothing: the key is required");
  fails("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil, :time 5}", 1,
        "expected only the keys :process, :type, :f, :key, :value, got :time");
  fails("{:process 0, :type :invoke, :f :cas, :key \"1\", :value nil}", 1,
        "expected :f to be :get, :put or :append, got :cas");
  fails("{:process 0, :type :invoke, :f :get, :key \"1, :value nil}", 1,
        "expected a closing '\"', got \"the end of the line\"");
  fails("{:process 0, :process 1, :type :invoke, :f :get, :key \"1\", :value nil}", 1,
        ":process appears twice; expected each key once");
  fails("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil} x", 1,
        "expected the end of the line after '}', got \"x\"");
  fails(ok_invoke + "{:process 0, :type :ok, :f :get, :key \"2\", :value \"\"}", 2,
        "expected :key \"1\" as in the invoke on line 1, got \"2\"");
  fails("{:process 0, :type :invoke, :f :put, :key \"1\", :value 5}", 1,
        "expected :value to be a string or nil, got \"5\"");
}

// The example in history_formats.h, verbatim.
constexpr const char* kDocumentedExample = R"({
  "lockstep_history": 1,
  "model": "register",
  "operations": [
    {"process": 0, "f": "write", "args": [3], "outcome": "ok", "call_ns": 100, "return_ns": 250},
    {"process": 1, "f": "read", "result": 3, "outcome": "ok", "call_ns": 120, "return_ns": 300},
    {"process": 2, "f": "cas", "args": [3, 4], "outcome": "unknown", "call_ns": 130},
    {"process": 0, "key": "k", "f": "cas", "args": [1, 2], "outcome": "failed",
     "call_ns": 260, "return_ns": 400}
  ]
})";

TEST(LockstepHistory, ReadsTheDocumentedExample) {
  const LoadedHistory h = parsed(parse_lockstep_history(kDocumentedExample, std::nullopt));
  EXPECT_EQ(h.model, ModelKind::register_);
  EXPECT_EQ(h.history.time_axis, TimeAxis::nanos);
  ASSERT_EQ(h.history.operations.size(), 4u);
  const Operation& read = h.history.operations[1];
  EXPECT_EQ(read.f, "read");
  EXPECT_EQ(read.result, Value{std::int64_t{3}});
  EXPECT_EQ(read.call, Nanos{120});
  EXPECT_EQ(read.ret, Nanos{300});
  EXPECT_EQ(read.origin, "/operations/1");
  EXPECT_EQ(h.history.operations[2].outcome, Outcome::unknown);
  EXPECT_EQ(h.history.operations[3].key, "k");
  EXPECT_EQ(h.history.operations[3].outcome, Outcome::failed);
}

TEST(LockstepHistory, BadValueIsReportedWithItsJsonPointer) {
  const auto fails = [](const std::string& text, const std::string& message) {
    const FormatError e = error(parse_lockstep_history(text, std::nullopt));
    EXPECT_EQ(e.line, 0u);
    EXPECT_EQ(e.message, message) << text;
  };
  const auto one = [](const std::string& op, const std::string& model = "register") {
    return R"({"lockstep_history": 1, "model": ")" + model + R"(", "operations": [)" + op + "]}";
  };
  fails(one(R"({"process": 0, "f": "get", "outcome": "ok", "call_ns": 1, "return_ns": 2})"),
        "/operations/0/f: expected one of read, write, cas (the register model), got \"get\"");
  fails(one(R"({"process": 0, "f": "write", "args": [1], "outcome": "ok", "call_ns": 1, "return_ns": 2})",
            "kv"),
        "/operations/0/f: expected one of get, put, append, cas (the kv model), got \"write\"");
  fails(one(R"({"process": 0, "f": "put", "args": [1], "outcome": "ok", "call_ns": 1, "return_ns": 2})",
            "kv"),
        "/operations/0/args: expected one string (strings) for put (the kv model), got an array");
  fails(one(R"({"process": 0, "f": "cas", "args": [1], "outcome": "ok", "call_ns": 1, "return_ns": 2})"),
        "/operations/0/args: expected [expected new] for cas (the register model), got an array");
  fails(one(R"({"process": 0, "f": "read", "outcome": "ok", "call_ns": 5, "return_ns": 2})"),
        "/operations/0/return_ns: expected an integer in 5..9223372036854775806, got 2");
  fails(one(R"({"process": 0, "f": "read", "outcome": "ok", "call_ns": 5})"),
        "/operations/0/return_ns: expected an integer in 5..9223372036854775806, got nothing: the "
        "field is required");
  fails(one(R"({"process": 0, "f": "read", "outcome": "maybe", "call_ns": 5, "return_ns": 6})"),
        "/operations/0/outcome: expected one of ok, failed, unknown, got \"maybe\"");
  fails(one(R"({"process": 0, "f": "read", "outcome": "ok", "call_ns": 5, "return_ns": 6, "retrun_ns": 7})"),
        "/operations/0/retrun_ns: expected one of the fields process, key, f, args, result, outcome, call_ns, "
        "return_ns, got unknown field \"retrun_ns\" (did you mean \"return_ns\"?)");
  fails(one(R"({"process": 0, "f": "write", "args": [1.5], "outcome": "ok", "call_ns": 5, "return_ns": 6})"),
        "/operations/0/args/0: expected null, an integer or a string, got 1.5");
  fails(R"({"model": "register", "operations": []})",
        "/lockstep_history: expected 1 (the format version), got nothing: the field is required");
  fails(R"({"lockstep_history": 2, "model": "register", "operations": []})",
        "/lockstep_history: expected 1 (the format version), got 2");
  fails(R"({"lockstep_history": 1, "model": "queue", "operations": []})",
        "/model: expected one of register, kv, lock, namespace, lock-service, got \"queue\"");
  EXPECT_TRUE(error(parse_lockstep_history("{\"lockstep_history\": 1,\n  oops}", std::nullopt))
                  .message.starts_with("line 2, column 3: syntax error"));
}

TEST(LockstepHistory, ModelGivenByTheCallerReplacesTheFilesAndIsChecked) {
  const FormatError e = error(parse_lockstep_history(kDocumentedExample, ModelKind::kv));
  EXPECT_EQ(e.message, "/operations/0/f: expected one of get, put, append, cas (the kv model), got \"write\"");
  const FormatError jepsen =
      error(parse_history(etcd("0\t:invoke\t:read\tnil\n0\t:ok\t:read\t1"), HistoryFormat::jepsen_etcd,
                          ModelKind::kv));
  EXPECT_EQ(jepsen.line, 1u);
  EXPECT_EQ(jepsen.message,
            "read -> 1 does not fit the kv model: expected one of get, put, append, cas in f");
}

TEST(HistoryFormat, NamesRoundTrip) {
  for (const std::string_view name : history_format_names()) {
    const auto format = history_format_from_name(name);
    ASSERT_TRUE(format.has_value()) << name;
    EXPECT_EQ(history_format_names()[static_cast<std::size_t>(*format)], name);
  }
  EXPECT_FALSE(history_format_from_name("xml").has_value());
}

}  // namespace
}  // namespace history_formats_test
}  // namespace lockstep::checkers
