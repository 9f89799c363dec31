// FlatMap: an open-addressing hash map from nonzero 64-bit keys to small
// values, for per-batch bookkeeping on the write path: one allocation per
// batch instead of one per entry. Several slots may share a key (a caller
// tells them apart with `match`, e.g. a path whose hash collides).
#pragma once

#include <cstdint>
#include <vector>

namespace zcmedia {

template <typename Value>
class FlatMap {
 public:
  explicit FlatMap(size_t expected = 0) { Reset(expected); }

  void Reset(size_t expected) {
    size_t cap = 16;
    while (cap * 4 < expected * 5) cap *= 2;  // load <= 0.8 when `expected` arrive
    keys_.assign(cap, 0);
    values_.resize(cap);
    size_ = 0;
  }

  // The value under `key` for which match(value) holds, or nullptr.
  template <typename Match>
  Value* Find(uint64_t key, Match&& match) {
    for (size_t i = Slot(key);; i = (i + 1) & (keys_.size() - 1)) {
      if (keys_[i] == 0) return nullptr;
      if (keys_[i] == key && match(values_[i])) return &values_[i];
    }
  }
  Value* Find(uint64_t key) {
    return Find(key, [](const Value&) { return true; });
  }

  // Calls f(key, value) for every slot, in no particular order.
  template <typename F>
  void ForEach(F&& f) {
    for (size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] != 0) f(keys_[i], values_[i]);
  }
  bool empty() const { return size_ == 0; }

  // Adds a slot for `key` (even if one exists) and returns its value.
  Value& Insert(uint64_t key) {
    if ((size_ + 1) * 10 > keys_.size() * 8) Grow();
    size_t i = Slot(key);
    while (keys_[i] != 0) i = (i + 1) & (keys_.size() - 1);
    keys_[i] = key;
    ++size_;
    return values_[i] = Value();
  }

 private:
  size_t Slot(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 32) & (keys_.size() - 1);
  }
  void Grow() {
    std::vector<uint64_t> keys = std::move(keys_);
    std::vector<Value> values = std::move(values_);
    Reset(keys.size());
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] != 0) Insert(keys[i]) = values[i];
  }

  std::vector<uint64_t> keys_;
  std::vector<Value> values_;
  size_t size_ = 0;
};

}  // namespace zcmedia
