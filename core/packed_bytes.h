// A list of byte strings stored back to back in one buffer, each with a small key (a destination
// node, a log index; nothing for plain records). Hot paths produce one such list per step and
// clear it afterwards: clear() keeps the capacity, so once the buffers have grown to their
// working size, adding an element allocates nothing (a std::vector<Bytes> allocates per element).
//
//   struct Message { NodeId to; ByteView payload; };
//   PackedBytes<NodeId, Message> out;
//   out.add(NodeId{2}, payload);                 // copy in
//   Writer w(out.open(NodeId{3})); w.u64(7);     // or encode in place...
//   out.close();                                 // ...and seal the element
//   for (const Message& m : out) send(m.to, m.payload);
//
// An element reads as `View{key, bytes}` (an aggregate of the key and a ByteView), or as a plain
// ByteView for a list without keys.
// Views handed out are valid until the list is next modified.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <type_traits>
#include <vector>

#include "core/assert.h"
#include "core/bytes.h"

namespace lockstep {

struct NoKey {
  friend bool operator==(NoKey, NoKey) = default;
};

template <typename Key>
struct KeyedBytes {
  Key key;
  ByteView bytes;
};

template <typename Key = NoKey,
          typename View = std::conditional_t<std::is_same_v<Key, NoKey>, ByteView, KeyedBytes<Key>>>
class PackedBytes {
 public:
  using Item = View;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Item;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Item;

    const_iterator() = default;
    const_iterator(const PackedBytes* list, std::size_t i) : list_(list), i_(i) {}
    Item operator*() const { return (*list_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++i_;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.i_ == b.i_;
    }

   private:
    const PackedBytes* list_ = nullptr;
    std::size_t i_ = 0;
  };

  std::size_t size() const { return elements_.size(); }
  bool empty() const { return elements_.empty(); }
  Item operator[](std::size_t i) const {
    LS_ASSERT_LT(i, elements_.size());
    const std::size_t begin = i == 0 ? 0 : elements_[i - 1].end;
    const ByteView bytes(bytes_.data() + begin, elements_[i].end - begin);
    if constexpr (std::is_same_v<View, ByteView>) {
      return bytes;
    } else {
      return View{elements_[i].key, bytes};
    }
  }
  Item back() const { return (*this)[size() - 1]; }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size()); }

  void add(Key key, ByteView b) {
    append_bytes(open(key), b);
    close();
  }
  void add(ByteView b)
    requires std::is_same_v<Key, NoKey>
  {
    add(NoKey{}, b);
  }

  // Adds a copy of element i's bytes under `key`.
  void add_copy(Key key, std::size_t i) {
    LS_ASSERT_LT(i, elements_.size());
    LS_ASSERT_MSG(!open_, "add_copy() while an element is open");
    const std::size_t begin = i == 0 ? 0 : elements_[i - 1].end;
    const std::size_t size = elements_[i].end - begin;
    const std::size_t at = bytes_.size();
    bytes_.resize(at + size);  // may move the buffer: copy by position, not through a view
    std::memcpy(bytes_.data() + at, bytes_.data() + begin, size);
    elements_.push_back(Element{key, bytes_.size()});
  }

  // Starts an element: append its bytes to the returned buffer (a Writer over it, say), then
  // call close(). Nothing else may touch the list in between.
  Bytes& open(Key key) {
    LS_ASSERT_MSG(!open_, "open() while an element is still open");
    open_ = true;
    elements_.push_back(Element{key, 0});
    return bytes_;
  }
  Bytes& open()
    requires std::is_same_v<Key, NoKey>
  {
    return open(NoKey{});
  }
  void close() {
    LS_ASSERT_MSG(open_, "close() without open()");
    open_ = false;
    elements_.back().end = bytes_.size();
  }

  // Removes the elements for which pred(item) holds, keeping the others in order.
  template <typename Pred>
  void erase_if(Pred pred) {
    PackedBytes kept;
    for (std::size_t i = 0; i < size(); ++i) {
      const Item item = (*this)[i];
      if (pred(item)) continue;
      const std::size_t begin = i == 0 ? 0 : elements_[i - 1].end;
      kept.add(elements_[i].key, ByteView(bytes_.data() + begin, elements_[i].end - begin));
    }
    *this = std::move(kept);
  }

  friend void swap(PackedBytes& a, PackedBytes& b) noexcept {
    a.bytes_.swap(b.bytes_);
    a.elements_.swap(b.elements_);
    std::swap(a.open_, b.open_);
  }

  void clear() {
    LS_ASSERT_MSG(!open_, "clear() while an element is open");
    bytes_.clear();
    elements_.clear();
  }

 private:
  struct Element {
    [[no_unique_address]] Key key;
    std::size_t end = 0;  // where its bytes end in bytes_ (they begin where the previous end)
  };
  Bytes bytes_;
  std::vector<Element> elements_;
  bool open_ = false;
};

}  // namespace lockstep
