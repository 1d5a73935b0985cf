#include "invkit/io/torch_save.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "invkit/error.h"

namespace invkit::io {

namespace {

// A stack item: a value, or a class or function named by GLOBAL, or a tuple
// that holds one (a persistent id names its storage's class).
struct Item {
  c10::IValue value;
  std::string global;  // "module.name" when the item is a global
  std::shared_ptr<std::vector<Item>> parts;  // a tuple with a global among its items
};

c10::ScalarType storage_dtype(const std::string& global) {
  static const std::map<std::string, c10::ScalarType> types{
      {"torch.FloatStorage", c10::kFloat},   {"torch.DoubleStorage", c10::kDouble},
      {"torch.HalfStorage", c10::kHalf},     {"torch.BFloat16Storage", c10::kBFloat16},
      {"torch.LongStorage", c10::kLong},     {"torch.IntStorage", c10::kInt},
      {"torch.ShortStorage", c10::kShort},   {"torch.CharStorage", c10::kChar},
      {"torch.ByteStorage", c10::kByte},     {"torch.BoolStorage", c10::kBool},
      {"torch.UntypedStorage", c10::kByte}};
  auto it = types.find(global);
  if (it == types.end()) throw std::runtime_error("a storage of class " + global);
  return it->second;
}

class Unpickler {
 public:
  Unpickler(caffe2::serialize::PyTorchStreamReader& archive, const std::string& source)
      : archive_(archive), source_(source) {
    auto [data, size] = archive_.getRecord("data.pkl");
    const auto* p = static_cast<const uint8_t*>(data.get());
    pickle_.assign(p, p + size);
  }

  c10::IValue run() {
    while (true) {
      const size_t at = pos_;
      const uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;                 // PROTO
        case 0x95: bytes(8); break;               // FRAME (a length hint)
        case '.': return pop().value;             // STOP
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case 'N': push(c10::IValue()); break;
        case 0x88: push(true); break;             // NEWTRUE
        case 0x89: push(false); break;            // NEWFALSE
        case 'J': push(static_cast<int64_t>(static_cast<int32_t>(le(4)))); break;  // BININT
        case 'K': push(static_cast<int64_t>(le(1))); break;  // BININT1
        case 'M': push(static_cast<int64_t>(le(2))); break;  // BININT2
        case 0x8a: push(long1()); break;          // LONG1
        case 'G': push(binfloat()); break;        // BINFLOAT
        case 'X': push(text(le(4))); break;       // BINUNICODE
        case 0x8c: push(text(le(1))); break;      // SHORT_BINUNICODE
        case 0x8d: push(text(le(8))); break;      // BINUNICODE8
        case 'B': push(text(le(4))); break;       // BINBYTES
        case 'C': push(text(le(1))); break;       // SHORT_BINBYTES
        case '}': push(c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get())); break;  // EMPTY_DICT
        case ']': push(c10::impl::GenericList(c10::AnyType::get())); break;  // EMPTY_LIST
        case ')': push(c10::ivalue::Tuple::create(std::vector<c10::IValue>{})); break;  // EMPTY_TUPLE
        case 't': stack_.push_back(tuple(pop_mark())); break;  // TUPLE
        case 0x85: case 0x86: case 0x87: {        // TUPLE1..3
          std::vector<Item> items(op - 0x84);
          for (size_t i = items.size(); i-- > 0;) items[i] = pop();
          stack_.push_back(tuple(std::move(items)));
          break;
        }
        case 'a': { Item v = pop(); append(top(), {v}); break; }  // APPEND
        case 'e': { auto items = pop_mark(); append(top(), items); break; }  // APPENDS
        case 's': { Item v = pop(), k = pop(); set_items(top(), {k, v}); break; }  // SETITEM
        case 'u': { auto items = pop_mark(); set_items(top(), items); break; }  // SETITEMS
        case 'q': memo_[le(1)] = top(); break;    // BINPUT
        case 'r': memo_[le(4)] = top(); break;    // LONG_BINPUT
        case 0x94: { const size_t n = memo_.size(); memo_[n] = top(); break; }  // MEMOIZE
        case 'h': stack_.push_back(memo(le(1))); break;  // BINGET
        case 'j': stack_.push_back(memo(le(4))); break;  // LONG_BINGET
        case 'c': {                               // GLOBAL
          std::string module = line(), name = line();
          stack_.push_back({c10::IValue(), module + "." + name, nullptr});
          break;
        }
        case 0x93: {                              // STACK_GLOBAL
          Item name = pop(), module = pop();
          if (!name.value.isString() || !module.value.isString()) fail("STACK_GLOBAL of a non-string", at);
          stack_.push_back({c10::IValue(), module.value.toStringRef() + "." + name.value.toStringRef(), nullptr});
          break;
        }
        case 'R': { Item args = pop(), f = pop(); push(reduce(f, args)); break; }  // REDUCE
        case 'b': {                               // BUILD: the state of a dict or tensor is dropped
          pop();
          if (!top().value.isGenericDict() && !top().value.isTensor()) fail("BUILD of " + describe(top()), at);
          break;
        }
        case 'Q': push(storage(pop())); break;    // BINPERSID
        case 0x81: case 0x92: {                   // NEWOBJ, NEWOBJ_EX: an instance of a class
          if (op == 0x92) pop();
          pop();
          throw Error(source_ + ": data.pkl holds the Python object " + describe(top()) +
                      ", which a weights-only reader does not build");
        }
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          fail(std::string("pickle opcode ") + hex, at);
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what, size_t at) const {
    throw Error(source_ + ": " + what + " at byte " + std::to_string(at) +
                " of data.pkl is not something a weights-only reader builds (dicts, lists, tuples, strings, "
                "numbers and tensors)");
  }
  uint8_t byte() {
    if (pos_ >= pickle_.size()) throw Error(source_ + ": data.pkl ends before its STOP opcode");
    return pickle_[pos_++];
  }
  const uint8_t* bytes(size_t n) {
    if (n > pickle_.size() - pos_) throw Error(source_ + ": data.pkl ends inside an opcode's argument");
    const uint8_t* p = pickle_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(size_t n) {
    const uint8_t* p = bytes(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
  }
  int64_t long1() {
    const size_t n = le(1);
    if (n > 8) throw Error(source_ + ": an integer of " + std::to_string(n) + " bytes in data.pkl");
    if (n == 0) return 0;
    uint64_t v = le(n);
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }
  double binfloat() {
    const uint8_t* p = bytes(8);
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  std::string text(uint64_t n) {
    if (n > pickle_.size()) throw Error(source_ + ": a string longer than data.pkl");
    const uint8_t* p = bytes(static_cast<size_t>(n));
    return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  }
  std::string line() {
    std::string s;
    for (uint8_t c; (c = byte()) != '\n';) s += static_cast<char>(c);
    return s;
  }
  void push(c10::IValue v) { stack_.push_back({std::move(v), {}, nullptr}); }
  Item& top() {
    if (stack_.empty()) throw Error(source_ + ": data.pkl pops an empty stack");
    return stack_.back();
  }
  Item pop() {
    Item v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<Item> pop_mark() {
    if (marks_.empty() || marks_.back() > stack_.size()) throw Error(source_ + ": data.pkl has no MARK to pop to");
    std::vector<Item> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  Item memo(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) throw Error(source_ + ": data.pkl reads memo entry " + std::to_string(key) + ", never put");
    return it->second;
  }
  std::string describe(const Item& v) const {
    return !v.global.empty() ? v.global : v.parts ? "a tuple of Python objects" : "a " + v.value.tagKind();
  }
  std::vector<c10::IValue> values(const std::vector<Item>& items) const {
    std::vector<c10::IValue> out;
    for (const auto& i : items) {
      if (!i.global.empty() || i.parts)
        throw Error(source_ + ": data.pkl holds the Python object " + describe(i) +
                    ", which a weights-only reader does not build");
      out.push_back(i.value);
    }
    return out;
  }
  Item tuple(std::vector<Item> items) const {
    for (const auto& i : items)
      if (!i.global.empty() || i.parts) return {c10::IValue(), {}, std::make_shared<std::vector<Item>>(std::move(items))};
    return {c10::ivalue::Tuple::create(values(items)), {}, nullptr};
  }
  void append(Item& list, const std::vector<Item>& items) {
    if (!list.value.isList()) throw Error(source_ + ": data.pkl appends to " + describe(list));
    auto l = list.value.toList();
    for (const auto& v : values(items)) l.push_back(v);
  }
  void set_items(Item& dict, const std::vector<Item>& items) {
    if (!dict.value.isGenericDict() || items.size() % 2)
      throw Error(source_ + ": data.pkl sets items of " + describe(dict));
    auto d = dict.value.toGenericDict();
    auto v = values(items);
    for (size_t i = 0; i < v.size(); i += 2) d.insert_or_assign(v[i], v[i + 1]);
  }

  c10::IValue reduce(const Item& f, const Item& args_item) {
    if (!args_item.value.isTuple()) throw Error(source_ + ": data.pkl calls " + describe(f) + " without a tuple");
    const auto& args = args_item.value.toTupleRef().elements();
    if (f.global == "collections.OrderedDict" && args.empty())
      return c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get());
    if (f.global == "torch._utils._rebuild_tensor_v2" && args.size() >= 4 && args[0].isTensor()) {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      auto ints = [&](const c10::IValue& t) {
        std::vector<int64_t> v;
        for (const auto& e : t.toTupleRef().elements()) v.push_back(e.toInt());
        return v;
      };
      const at::Tensor& storage = args[0].toTensor();
      const auto size = ints(args[2]), stride = ints(args[3]);
      const int64_t offset = args[1].toInt();
      int64_t last = offset;
      for (size_t i = 0; i < size.size(); ++i) {
        if (size[i] < 0 || stride[i] < 0) throw Error(source_ + ": a tensor with a negative size or stride");
        if (size[i] == 0) last = -1;
        if (last >= 0) last += (size[i] - 1) * stride[i];
      }
      if (offset < 0 || last >= storage.numel())
        throw Error(source_ + ": a tensor reaches past the end of its storage");
      return storage.as_strided(size, stride, offset);
    }
    // LibTorch's torch::pickle_save tags typed containers; the tag changes nothing.
    if (f.global == "torch.jit._pickle.restore_type_tag" && !args.empty()) return args[0];
    if ((f.global == "torch._utils._rebuild_parameter" || f.global == "torch._utils._rebuild_parameter_with_state") &&
        !args.empty() && args[0].isTensor())
      return args[0];
    throw Error(source_ + ": data.pkl holds the Python object " + (f.global.empty() ? describe(f) : f.global) +
                ", which a weights-only reader does not build");
  }

  // ("storage", storage class, key, location, numel) -> a 1-D tensor over
  // the record data/KEY, shared by every tensor that views it.
  c10::IValue storage(const Item& pid) {
    const std::vector<Item>* p = pid.parts.get();
    if (!p || p->size() < 5 || !(*p)[0].value.isString() || (*p)[0].value.toStringRef() != "storage" ||
        (*p)[1].global.empty() || !(*p)[2].value.isString() || !(*p)[4].value.isInt())
      throw Error(source_ + ": a persistent id that is not (\"storage\", class, key, location, size)");
    const std::string key = (*p)[2].value.toStringRef();
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    c10::ScalarType dtype;
    try {
      dtype = storage_dtype((*p)[1].global);
    } catch (const std::runtime_error&) {
      throw Error(source_ + ": a storage of class " + (*p)[1].global + ", which invkit does not read");
    }
    const int64_t numel = (*p)[4].value.toInt();
    const std::string record = "data/" + key;
    if (!archive_.hasRecord(record)) throw Error(source_ + ": the archive lacks the record " + record);
    auto [data, size] = archive_.getRecord(record);
    const size_t need = static_cast<size_t>(numel) * c10::elementSize(dtype);
    if (numel < 0 || size < need)
      throw Error(source_ + ": record " + record + " holds " + std::to_string(size) + " bytes, not the " +
                  std::to_string(need) + " of its storage");
    at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
    if (need) std::memcpy(t.data_ptr(), data.get(), need);
    storages_[key] = t;
    return t;
  }

  caffe2::serialize::PyTorchStreamReader& archive_;
  std::string source_;
  std::vector<uint8_t> pickle_;
  size_t pos_ = 0;
  std::vector<Item> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Item> memo_;
  std::map<std::string, at::Tensor> storages_;
};

}  // namespace

c10::IValue read_torch_save(const std::string& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> archive;
  try {
    archive = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const std::exception&) {
    throw Error(path + ": not a torch.save zip archive");
  }
  if (!archive->hasRecord("data.pkl")) throw Error(path + ": a zip archive without data.pkl: not a torch.save file");
  return Unpickler(*archive, path).run();
}

}  // namespace invkit::io
