// The protected resource (DESIGN.md, "Fencing"): a tiny storage server that clients read and
// write while they hold a lock, passing the lock's sequencer with each request. It makes "two
// clients wrote under the same lock" observable.
//
//   fencing  the resource keeps, per lock, the newest sequencer generation any request showed it,
//            and rejects a WRITE whose generation is older (Chubby §2.4's check, done by the
//            resource itself; etcd's revision fencing). Equal generations pass: one holder's
//            several writes. Reads are always served.
//   naive    every request is accepted; the sequencer is only recorded.
//
// Each key holds a u64. Every request — read or write, accepted or rejected — is reported to the
// observer with what it carried, so a checker sees the interleaving as the resource saw it.
// A request the network delivered twice is not a second request: as any RPC server over a
// session would, the resource remembers each client's last request id and answers a copy of it
// from that record (a copy of an older one is dropped: its client has moved on), executing and
// reporting nothing.
//
//   request  [0x52][op u8: 1 read, 2 write][id u64][session u64][key str][sequencer][value u64]
//   reply    [0x53][id u64][accepted u8][value u64][newest generation u64]
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/env.h"
#include "service/lock/lock_types.h"
#include "sim/fiber.h"

namespace lockstep::service {

enum class ResourceMode : std::uint8_t { fencing, naive };
std::string_view to_string(ResourceMode mode);

enum class ResourceOp : std::uint8_t { read = 1, write = 2 };

struct ResourceRequest {
  ResourceOp op = ResourceOp::read;
  std::uint64_t id = 0;        // echoed in the reply
  std::uint64_t session = 0;   // the writer's lock-service session, for the record
  std::string key;
  lock::Sequencer sequencer;   // of the lock the client holds for this key
  std::uint64_t value = 0;     // write: the new value
};

struct ResourceReply {
  std::uint64_t id = 0;
  bool accepted = false;
  std::uint64_t value = 0;               // read: the value; write: the value now stored
  std::uint64_t newest_generation = 0;   // the newest generation seen for the lock
};

Bytes encode(const ResourceRequest& request);
std::optional<ResourceRequest> decode_resource_request(ByteView bytes);
Bytes encode(const ResourceReply& reply);
std::optional<ResourceReply> decode_resource_reply(ByteView bytes);

// What the resource did with one request.
struct ResourceAccess {
  NodeId client;
  ResourceRequest request;
  bool accepted = false;
  std::uint64_t newest_before = 0;  // the newest generation seen for the lock before this one
};
using ResourceObserver = std::function<void(const ResourceAccess&)>;

class ProtectedResource final : public Process {
 public:
  ProtectedResource(ResourceMode mode, ResourceObserver observer);

  void on_start(Env& env) override;
  void on_message(Env& env, NodeId from, ByteView payload) override;
  void on_timer(Env&, TimerId) override {}

  ResourceMode mode() const { return mode_; }
  std::uint64_t value(const std::string& key) const;

 private:
  ResourceMode mode_;
  ResourceObserver observer_;
  std::map<std::string, std::uint64_t> values_;
  std::map<std::string, std::uint64_t> newest_;  // by lock path
  struct LastReply {
    std::uint64_t id = 0;
    Bytes reply;
  };
  std::map<NodeId, LastReply> last_;  // by client
};

// Sends `request` from a fiber and waits up to `timeout` for its reply.
std::optional<ResourceReply> call_resource(sim::FiberContext& f, NodeId resource,
                                           const ResourceRequest& request, Nanos timeout);

}  // namespace lockstep::service
