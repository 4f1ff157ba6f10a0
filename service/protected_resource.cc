#include "service/protected_resource.h"

#include <algorithm>

#include "core/codec.h"
#include "service/lock/lock_codec.h"

namespace lockstep::service {

namespace {

constexpr std::uint8_t kRequestTag = 0x52;
constexpr std::uint8_t kReplyTag = 0x53;

}  // namespace

std::string_view to_string(ResourceMode mode) {
  return mode == ResourceMode::fencing ? "fencing" : "naive";
}

Bytes encode(const ResourceRequest& r) {
  Writer w(r.key.size() + r.sequencer.path.size() + 48);
  w.u8(kRequestTag).u8(static_cast<std::uint8_t>(r.op)).u64(r.id).u64(r.session).str(r.key);
  lock::write(w, r.sequencer);
  w.u64(r.value);
  return w.take();
}

std::optional<ResourceRequest> decode_resource_request(ByteView bytes) {
  lock::FieldReader r(bytes);
  if (r.u8() != kRequestTag) return std::nullopt;
  ResourceRequest out;
  const std::uint8_t op = r.u8();
  out.id = r.u64();
  out.session = r.u64();
  out.key = r.str();
  out.sequencer = lock::read_sequencer(r);
  out.value = r.u64();
  if (!r.done() || op < 1 || op > 2) return std::nullopt;
  out.op = static_cast<ResourceOp>(op);
  return out;
}

Bytes encode(const ResourceReply& r) {
  Writer w(32);
  w.u8(kReplyTag).u64(r.id).boolean(r.accepted).u64(r.value).u64(r.newest_generation);
  return w.take();
}

std::optional<ResourceReply> decode_resource_reply(ByteView bytes) {
  lock::FieldReader r(bytes);
  if (r.u8() != kReplyTag) return std::nullopt;
  ResourceReply out;
  out.id = r.u64();
  out.accepted = r.boolean();
  out.value = r.u64();
  out.newest_generation = r.u64();
  if (!r.done()) return std::nullopt;
  return out;
}

ProtectedResource::ProtectedResource(ResourceMode mode, ResourceObserver observer)
    : mode_(mode), observer_(std::move(observer)) {}

// The resource keeps its data in memory: it is the thing being protected, not a subject of
// faults, so it never restarts in a run.
void ProtectedResource::on_start(Env&) {}

std::uint64_t ProtectedResource::value(const std::string& key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? 0 : it->second;
}

void ProtectedResource::on_message(Env& env, NodeId from, ByteView payload) {
  const auto request = decode_resource_request(payload);
  if (!request) return;  // not a resource request: ignored
  LastReply& last = last_[from];
  if (request->id < last.id) return;  // a late copy of a request its client no longer waits for
  if (request->id == last.id && !last.reply.empty()) {
    env.send(from, last.reply);  // a copy of the last one: the same answer, nothing done again
    return;
  }
  std::uint64_t& newest = newest_[request->sequencer.path];
  const std::uint64_t before = newest;
  // Reads are served to anyone; a write under an older generation is what fencing stops.
  const bool accepted = mode_ == ResourceMode::naive || request->op == ResourceOp::read ||
                        request->sequencer.generation >= newest;
  newest = std::max(newest, request->sequencer.generation);
  std::uint64_t& stored = values_[request->key];
  if (accepted && request->op == ResourceOp::write) stored = request->value;
  if (observer_) observer_(ResourceAccess{from, *request, accepted, before});
  last.id = request->id;
  last.reply = encode(ResourceReply{request->id, accepted, stored, newest});
  env.send(from, last.reply);
}

std::optional<ResourceReply> call_resource(sim::FiberContext& f, NodeId resource,
                                           const ResourceRequest& request, Nanos timeout) {
  const std::uint64_t id = request.id;
  const auto received = f.call(resource, encode(request), timeout, [id](NodeId, ByteView m) {
    const auto reply = decode_resource_reply(m);
    return reply && reply->id == id;
  });
  if (!received) return std::nullopt;
  return decode_resource_reply(received->payload);
}

}  // namespace lockstep::service
