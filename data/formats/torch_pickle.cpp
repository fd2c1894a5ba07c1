#include "data/formats/torch_pickle.h"

#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>

#include "core/errors.h"

namespace cascade::data {

namespace {

// The few Python values a torch.save state dict is built from.
struct PyObject;
using Ref = std::shared_ptr<PyObject>;

struct PyObject {
  enum class Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor, Mark };
  Kind kind = Kind::None;
  int64_t number = 0;      // Bool, Int
  double real = 0;         // Float
  std::string text;        // Str (also pickled bytes); Global: "module.name"
  std::vector<Ref> items;  // Tuple, List; Dict: key0, value0, key1, value1, ...
  PickledTensor tensor;    // Storage (key, type, dtype, numel) and Tensor (all fields)
};

Ref make(PyObject::Kind kind) {
  auto object = std::make_shared<PyObject>();
  object->kind = kind;
  return object;
}

Ref make_int(int64_t value, PyObject::Kind kind = PyObject::Kind::Int) {
  Ref object = make(kind);
  object->number = value;
  return object;
}

Ref make_text(std::string text, PyObject::Kind kind = PyObject::Kind::Str) {
  Ref object = make(kind);
  object->text = std::move(text);
  return object;
}

std::optional<at::ScalarType> storage_dtype(const std::string& type) {
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"DoubleStorage", at::kDouble}, {"FloatStorage", at::kFloat}, {"HalfStorage", at::kHalf},
      {"BFloat16Storage", at::kBFloat16}, {"LongStorage", at::kLong}, {"IntStorage", at::kInt},
      {"ShortStorage", at::kShort}, {"CharStorage", at::kChar}, {"ByteStorage", at::kByte},
      {"BoolStorage", at::kBool}};
  auto found = kTypes.find(type);
  return found == kTypes.end() ? std::nullopt : std::optional<at::ScalarType>(found->second);
}

// The globals torch.save writes for a dict of tensors; nothing else may be named.
bool allowed_global(const std::string& module, const std::string& name) {
  if (module == "collections") return name == "OrderedDict";
  if (module == "torch._utils")
    return name == "_rebuild_tensor_v2" || name == "_rebuild_tensor" || name == "_rebuild_parameter" ||
           name == "_rebuild_parameter_with_state";
  return module == "torch" && name.size() > 7 && name.compare(name.size() - 7, 7, "Storage") == 0;
}

class Unpickler {
 public:
  Unpickler(const std::string& where, const std::string& bytes) : where_(where), bytes_(bytes) {}

  Ref run() {
    while (step()) {
    }
    if (stack_.size() != 1) fail("pickle ends with " + std::to_string(stack_.size()) + " values on the stack");
    return stack_.back();
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(where_, "data.pkl at byte " + std::to_string(pos_) + ": " + problem);
  }

  // ---- reading the byte stream ----
  std::string take(uint64_t n) {
    if (n > bytes_.size() - pos_) fail("truncated (wants " + std::to_string(n) + " more bytes)");
    std::string out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint64_t unsigned_le(int n) {
    const std::string raw = take(n);
    uint64_t value = 0;
    for (int i = n - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(raw[i]);
    return value;
  }
  std::string line() {
    const size_t end = bytes_.find('\n', pos_);
    if (end == std::string::npos) fail("truncated text line");
    std::string out = bytes_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  // Two's-complement little-endian integer of n bytes (LONG1/LONG4); torch's sizes fit 8 bytes.
  int64_t signed_le(uint64_t n) {
    if (n > 8) fail("integer of " + std::to_string(n) + " bytes is too large");
    if (n == 0) return 0;
    const uint64_t value = unsigned_le(static_cast<int>(n));
    if (n == 8) return static_cast<int64_t>(value);
    const uint64_t sign = uint64_t{1} << (8 * n - 1);
    return static_cast<int64_t>((value ^ sign) - sign);
  }

  // ---- the stack and the memo ----
  Ref pop() {
    if (stack_.empty() || stack_.back()->kind == PyObject::Kind::Mark) fail("stack underflow");
    Ref out = stack_.back();
    stack_.pop_back();
    return out;
  }
  Ref& top() {
    if (stack_.empty() || stack_.back()->kind == PyObject::Kind::Mark) fail("stack underflow");
    return stack_.back();
  }
  std::vector<Ref> pop_to_mark() {
    std::vector<Ref> out;
    while (!stack_.empty() && stack_.back()->kind != PyObject::Kind::Mark) {
      out.insert(out.begin(), stack_.back());
      stack_.pop_back();
    }
    if (stack_.empty()) fail("no MARK to pop to");
    stack_.pop_back();
    return out;
  }
  Ref& expect(Ref& object, PyObject::Kind kind, const char* what) {
    if (object->kind != kind) fail(std::string("expected ") + what);
    return object;
  }
  Ref memo_get(uint64_t id) {
    auto found = memo_.find(id);
    if (found == memo_.end()) fail("memo entry " + std::to_string(id) + " was never stored");
    return found->second;
  }

  // ---- one opcode; false at STOP ----
  bool step() {
    const auto op = static_cast<unsigned char>(take(1)[0]);
    if (op == '.') return false;
    if (!(scalar_op(op) || container_op(op) || memo_op(op) || object_op(op)))
      fail("unsupported pickle opcode 0x" + hex(op));
    return true;
  }

  static std::string hex(unsigned char op) {
    const char* digits = "0123456789abcdef";
    return {digits[op >> 4], digits[op & 15]};
  }

  bool scalar_op(unsigned char op) {
    switch (op) {
      case 0x80: if (static_cast<unsigned char>(take(1)[0]) > 5) fail("pickle protocol above 5"); return true;
      case 0x95: take(8); return true;  // FRAME: a length hint for buffered readers
      case 'N': stack_.push_back(make(PyObject::Kind::None)); return true;
      case 0x88: stack_.push_back(make_int(1, PyObject::Kind::Bool)); return true;
      case 0x89: stack_.push_back(make_int(0, PyObject::Kind::Bool)); return true;
      case 'K': stack_.push_back(make_int(static_cast<int64_t>(unsigned_le(1)))); return true;
      case 'M': stack_.push_back(make_int(static_cast<int64_t>(unsigned_le(2)))); return true;
      case 'J': stack_.push_back(make_int(signed_le(4))); return true;
      case 0x8a: stack_.push_back(make_int(signed_le(unsigned_le(1)))); return true;
      case 0x8b: stack_.push_back(make_int(signed_le(unsigned_le(4)))); return true;
      case 'I': return text_int();
      case 'G': return binary_float();
      case 'X': case 'T': case 'B': stack_.push_back(make_text(take(unsigned_le(4)))); return true;
      case 0x8c: case 'U': case 'C': stack_.push_back(make_text(take(unsigned_le(1)))); return true;
      case 0x8d: case 0x8e: stack_.push_back(make_text(take(unsigned_le(8)))); return true;
      default: return false;
    }
  }

  // Protocol 0's INT, which also spells True and False.
  bool text_int() {
    const std::string text = line();
    if (text == "01" || text == "00") {
      stack_.push_back(make_int(text == "01", PyObject::Kind::Bool));
      return true;
    }
    try {
      stack_.push_back(make_int(std::stoll(text)));
    } catch (const std::exception&) {
      fail("bad INT '" + text + "'");
    }
    return true;
  }

  bool binary_float() {
    uint64_t bits = 0;
    for (char c : take(8)) bits = (bits << 8) | static_cast<unsigned char>(c);  // big-endian
    Ref value = make(PyObject::Kind::Float);
    std::memcpy(&value->real, &bits, 8);
    stack_.push_back(value);
    return true;
  }

  bool container_op(unsigned char op) {
    using Kind = PyObject::Kind;
    switch (op) {
      case '(': stack_.push_back(make(Kind::Mark)); return true;
      case '0': pop(); return true;
      case '1': pop_to_mark(); return true;
      case '2': { Ref copy = top(); stack_.push_back(copy); return true; }
      case ')': stack_.push_back(make(Kind::Tuple)); return true;
      case ']': stack_.push_back(make(Kind::List)); return true;
      case '}': stack_.push_back(make(Kind::Dict)); return true;
      case 't': push_items(Kind::Tuple, pop_to_mark()); return true;
      case 'l': push_items(Kind::List, pop_to_mark()); return true;
      case 'd': push_items(Kind::Dict, pairs(pop_to_mark())); return true;
      case 0x85: case 0x86: case 0x87: tuple_of(op - 0x84); return true;
      case 'a': { Ref value = pop(); expect(top(), Kind::List, "a list to APPEND to")->items.push_back(value); return true; }
      case 'e': extend(Kind::List, pop_to_mark(), "a list to APPEND to"); return true;
      case 's': { Ref value = pop(), key = pop(); extend(Kind::Dict, {key, value}, "a dict for SETITEM"); return true; }
      case 'u': extend(Kind::Dict, pairs(pop_to_mark()), "a dict for SETITEMS"); return true;
      default: return false;
    }
  }

  void push_items(PyObject::Kind kind, std::vector<Ref> items) {
    Ref object = make(kind);
    object->items = std::move(items);
    stack_.push_back(object);
  }
  std::vector<Ref> pairs(std::vector<Ref> items) {
    if (items.size() % 2 != 0) fail("odd number of items for a dict");
    return items;
  }
  void tuple_of(int n) {
    std::vector<Ref> items(n);
    for (int i = n - 1; i >= 0; --i) items[i] = pop();
    push_items(PyObject::Kind::Tuple, std::move(items));
  }
  void extend(PyObject::Kind kind, const std::vector<Ref>& items, const char* what) {
    Ref& target = expect(top(), kind, what);
    target->items.insert(target->items.end(), items.begin(), items.end());
  }

  bool memo_op(unsigned char op) {
    switch (op) {
      case 'q': memo_[unsigned_le(1)] = top(); return true;
      case 'r': memo_[unsigned_le(4)] = top(); return true;
      case 0x94: memo_[memo_.size()] = top(); return true;
      case 'h': stack_.push_back(memo_get(unsigned_le(1))); return true;
      case 'j': stack_.push_back(memo_get(unsigned_le(4))); return true;
      default: return false;
    }
  }

  bool object_op(unsigned char op) {
    switch (op) {
      case 'c': { std::string module = line(); push_global(module, line()); return true; }
      case 0x93: { Ref name = pop(), module = pop(); push_global(text_of(module), text_of(name)); return true; }
      case 'R': case 0x81: { Ref args = pop(), callable = pop(); stack_.push_back(call(callable, args)); return true; }
      case 'b': build(); return true;
      case 'Q': { Ref pid = pop(); stack_.push_back(persistent_load(pid)); return true; }
      default: return false;
    }
  }

  const std::string& text_of(const Ref& object) {
    if (object->kind != PyObject::Kind::Str) fail("expected a string");
    return object->text;
  }
  int64_t int_of(const Ref& object) {
    if (object->kind != PyObject::Kind::Int) fail("expected an integer");
    return object->number;
  }

  void push_global(const std::string& module, const std::string& name) {
    if (!allowed_global(module, name))
      fail("refers to " + module + "." + name + ", which a plain torch.save state dict does not use "
           "(refusing to load it; convert the checkpoint to safetensors)");
    stack_.push_back(make_text(module + "." + name, PyObject::Kind::Global));
  }

  // BUILD sets an object's state: OrderedDict's `_metadata` attribute (state dicts carry one) and
  // tensor state; neither matters for the weights.
  void build() {
    pop();
    const auto kind = top()->kind;
    if (kind != PyObject::Kind::Dict && kind != PyObject::Kind::Tensor) fail("BUILD on something that is not a dict");
  }

  Ref call(const Ref& callable, const Ref& args) {
    if (callable->kind != PyObject::Kind::Global || args->kind != PyObject::Kind::Tuple)
      fail("REDUCE without a known callable and argument tuple");
    const std::string& name = callable->text;
    if (name == "collections.OrderedDict") return make(PyObject::Kind::Dict);
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") return rebuild_tensor(args->items);
    if (name.rfind("torch._utils._rebuild_parameter", 0) == 0) {
      if (args->items.empty() || args->items[0]->kind != PyObject::Kind::Tensor) fail("parameter without a tensor");
      return args->items[0];
    }
    fail("cannot call " + name);
  }

  std::vector<int64_t> int_tuple(const Ref& object) {
    if (object->kind != PyObject::Kind::Tuple) fail("expected a tuple of integers");
    std::vector<int64_t> out;
    for (const Ref& item : object->items) out.push_back(int_of(item));
    return out;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  Ref rebuild_tensor(const std::vector<Ref>& args) {
    if (args.size() < 4 || args[0]->kind != PyObject::Kind::Storage) fail("tensor without its storage");
    Ref tensor = make(PyObject::Kind::Tensor);
    tensor->tensor = args[0]->tensor;
    tensor->tensor.storage_offset = int_of(args[1]);
    tensor->tensor.sizes = int_tuple(args[2]);
    tensor->tensor.strides = int_tuple(args[3]);
    check_inside_storage(tensor->tensor);
    return tensor;
  }

  // Every element the view can address lies inside its storage (a lying file could point anywhere).
  void check_inside_storage(const PickledTensor& t) {
    if (t.sizes.size() != t.strides.size()) fail("tensor with " + std::to_string(t.sizes.size()) + " sizes but " +
                                                  std::to_string(t.strides.size()) + " strides");
    if (t.storage_offset < 0) fail("negative storage offset");
    int64_t last = t.storage_offset;  // highest element index the view reads
    for (size_t i = 0; i < t.sizes.size(); ++i) {
      if (t.sizes[i] < 0 || t.strides[i] < 0) fail("negative size or stride");
      if (t.sizes[i] == 0) return;  // empty: reads nothing
      int64_t reach = 0;
      if (__builtin_mul_overflow(t.sizes[i] - 1, t.strides[i], &reach) || __builtin_add_overflow(last, reach, &last))
        fail("tensor extent overflows");
    }
    if (last >= t.storage_numel)
      fail("tensor reaches element " + std::to_string(last) + " of storage '" + t.storage_key + "' which holds " +
           std::to_string(t.storage_numel));
  }

  // BINPERSID ('storage', torch.FloatStorage, key, location, numel): a storage saved as data/<key>.
  Ref persistent_load(const Ref& pid) {
    const auto& items = pid->items;
    if (pid->kind != PyObject::Kind::Tuple || items.size() != 5 || items[0]->kind != PyObject::Kind::Str ||
        items[0]->text != "storage" || items[1]->kind != PyObject::Kind::Global)
      fail("persistent id is not ('storage', type, key, location, numel)");
    Ref storage = make(PyObject::Kind::Storage);
    storage->tensor.storage_type = items[1]->text.substr(std::strlen("torch."));
    storage->tensor.dtype = storage_dtype(storage->tensor.storage_type);
    storage->tensor.storage_key = text_of(items[2]);
    storage->tensor.storage_numel = int_of(items[4]);
    if (storage->tensor.storage_numel < 0) fail("negative storage size");
    return storage;
  }

  const std::string& where_;
  const std::string& bytes_;
  size_t pos_ = 0;
  std::vector<Ref> stack_;
  std::unordered_map<uint64_t, Ref> memo_;
};

}  // namespace

std::vector<std::pair<std::string, PickledTensor>> parse_state_dict_pickle(const std::string& where,
                                                                           const std::string& bytes) {
  const Ref root = Unpickler(where, bytes).run();
  if (root->kind != PyObject::Kind::Dict) throw InputError(where, "data.pkl does not hold a dict of tensors");
  std::vector<std::pair<std::string, PickledTensor>> out;
  std::map<std::string, size_t> index;  // a repeated key replaces the earlier value, as in Python
  for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
    const Ref& key = root->items[i];
    const Ref& value = root->items[i + 1];
    if (key->kind != PyObject::Kind::Str || value->kind != PyObject::Kind::Tensor) continue;
    auto [slot, fresh] = index.emplace(key->text, out.size());
    if (fresh)
      out.emplace_back(key->text, value->tensor);
    else
      out[slot->second].second = value->tensor;
  }
  return out;
}

}  // namespace cascade::data
